// The least any claim on a V8 Map of the memory store's size can cost: a lookup, one small object kept per item, the
// oldest entry dropped past the bound. No rules, no history, no expiry sweep. bench/claim-floor.ts times it in
// process beside the store; bench/breakdown-server.mjs serves it over HTTP beside /dedupe. Plain JavaScript, so the
// breakdown server (over dist/, without tsx) can load it; bare-map.d.mts types it for the TypeScript benchmarks.

export class BareMapClaims {
  #entries = new Map()
  #oldest = undefined

  /** `makeToken` gives each claim its token (the store's nonce), so the map pays what a claim's token costs. */
  constructor(bound, makeToken) {
    this.bound = bound
    this.makeToken = makeToken
  }

  /** The new claim's token and expiry, or undefined when a live claim holds the key. */
  claim(key, version, now, leaseMs) {
    const held = this.#entries.get(key)
    if (held !== undefined && held.expiresAt > now) return undefined
    const claim = { token: `1.${this.makeToken()}`, version, expiresAt: now + leaseMs }
    this.#entries.set(key, claim)
    while (this.#entries.size > this.bound) {
      this.#oldest ??= this.#entries.keys()
      const next = this.#oldest.next()
      if (next.done) this.#oldest = undefined
      else this.#entries.delete(next.value)
    }
    return claim
  }
}
