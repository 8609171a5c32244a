// Seeded randomness: one seed gives the same human plan and the same fault draws, stream by stream.

/** mulberry32: small, fast and good enough for a simulation (not for secrets). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function hashLabel(label: string): number {
  let h = 2166136261
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619)
  return h >>> 0
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const HEX = '0123456789abcdef'

export class Random {
  private readonly next: () => number
  readonly seed: number

  constructor(seed: number) {
    this.seed = seed >>> 0
    this.next = mulberry32(this.seed)
  }

  /**
   * An independent stream for one concern (humans, faults, ids...): drawing more in one stream never shifts
   * another, so the human plan stays the same when a fault rate changes.
   */
  fork(label: string): Random {
    return new Random((this.seed ^ hashLabel(label)) >>> 0)
  }

  float(): number {
    return this.next()
  }

  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  between(min: number, max: number): number {
    return min + this.next() * (max - min)
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]
  }

  /** Exponential gap with the given mean: human actions arrive as a Poisson process. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean
  }

  chars(length: number, alphabet: string): string {
    let out = ''
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)]
    return out
  }

  base64(length: number): string {
    return this.chars(length, BASE64)
  }

  upperAlnum(length: number): string {
    return this.chars(length, UPPER_ALNUM)
  }

  uuid(): string {
    const h = this.chars(32, HEX)
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
  }
}
