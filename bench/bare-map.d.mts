// Types of bench/bare-map.mjs.
export declare class BareMapClaims {
  constructor(bound: number, makeToken: () => string)
  claim(key: string, version: string, now: number, leaseMs: number): { token: string; version: string; expiresAt: number } | undefined
}
