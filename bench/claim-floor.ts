// `npx tsx bench/claim-floor.ts`: what a memory store claim costs at its bound, beside the least any claim on a V8 Map
// of that size can cost. For each bound (BENCH_FLOOR_BOUNDS, default 1000,10000,100000), in process, without HTTP:
// - the store: MemoryDedupeStore.claimMany of new items, 100 a call, as /dedupe/batch calls it;
// - a bare Map: keys made as the store makes them (itemMapKey), in a plain Map bounded by dropping its oldest entry,
//   each holding one small object (token, version, expiry): no rules, no history, no expiry sweep.
// Each is filled to its bound first, so both evict one entry per new item. As in `npm run bench`, the claims are never
// committed, so every store item holds a live claim that the bound passes over at first (a sixteenth of a move a
// write once its passes are spent; see KEEP_PASS_EARNED). Every timed claim must answer process, or the script fails.
// Rounds take turns between the two and the bounds; medians of BENCH_ROUNDS (default 5) rounds of BENCH_CLAIMS
// (default 300,000) claims. The bare Map's cost is what holding that many items costs: cache misses in a large table,
// and the scavenger copying every new entry that lives on.
import { itemMapKey } from '../src/domain/keys.js'
import { readDedupeRequest } from '../src/domain/dedupe-event.js'
import { toClaimInput } from '../src/routes/dedupe.js'
import type { ClaimInput } from '../src/stores/dedupe-store.js'
import { MemoryDedupeStore } from '../src/stores/memory/dedupe.js'
import { createNonce } from '../src/stores/nonce.js'
import { BareMapClaims } from './bare-map.mjs'
import { median, uniqueEvent } from './harness.js'

const PER_CALL = 100
const CLAIMS = Number(process.env.BENCH_CLAIMS ?? 300_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const BOUNDS = (process.env.BENCH_FLOOR_BOUNDS ?? '1000,10000,100000').split(',').map(Number)
if (!(CLAIMS >= PER_CALL) || !(ROUNDS >= 1) || !BOUNDS.every((bound) => Number.isInteger(bound) && bound > 0)) {
  throw new Error('BENCH_CLAIMS (at least 100), BENCH_ROUNDS and BENCH_FLOOR_BOUNDS (whole numbers) must be positive')
}
const LEASE_MS = 30_000
const TTL_MS = 86_400_000

interface Claimer {
  claim(inputs: ClaimInput[]): Promise<Array<{ decision: string }>>
}

/** The least a claim does (bench/bare-map.mjs), answered as the store answers a call of claims. */
class BareMap implements Claimer {
  private readonly claims: BareMapClaims
  constructor(bound: number) {
    this.claims = new BareMapClaims(bound, createNonce)
  }

  async claim(inputs: ClaimInput[]) {
    return inputs.map((input) => {
      const claim = this.claims.claim(itemMapKey(input.key), input.version, input.now, input.leaseMs)
      return claim === undefined ? { decision: 'in_flight' } : { decision: 'process', claim: { token: claim.token, expiresAt: claim.expiresAt } }
    })
  }
}

const inputs = (count: number): ClaimInput[] => {
  const now = Date.now()
  return Array.from({ length: count }, () => {
    const [event] = readDedupeRequest(uniqueEvent() as never, { leaseMs: LEASE_MS, allowFanOut: false })
    return toClaimInput(event, now, TTL_MS)
  })
}

/** Microseconds a claim over `count` new items, made a call's worth at a time outside the timed part. */
async function timeClaims(claimer: Claimer, count: number): Promise<number> {
  let spent = 0
  for (let done = 0; done < count; done += PER_CALL) {
    const call = inputs(Math.min(PER_CALL, count - done))
    const start = performance.now()
    const results = await claimer.claim(call)
    spent += performance.now() - start
    // every item is new: a claim answered otherwise would time something other than a claim's work
    const refused = results.find((result) => result.decision !== 'process')
    if (refused !== undefined) throw new Error(`a claim of a new item was answered ${refused.decision}`)
  }
  return (spent * 1000) / count
}

const kinds = {
  store: (bound: number): Claimer => {
    const store = new MemoryDedupeStore({ maxItems: bound })
    return { claim: (call) => store.claimMany(call) }
  },
  bare: (bound: number): Claimer => new BareMap(bound),
}
type Kind = keyof typeof kinds

const spent = new Map<string, number[]>()
for (let round = 0; round < ROUNDS; round++) {
  for (const bound of BOUNDS) {
    const order: Kind[] = round % 2 === 0 ? ['store', 'bare'] : ['bare', 'store']
    for (const kind of order) {
      const claimer = kinds[kind](bound)
      await timeClaims(claimer, bound) // filled to the bound: from here on every new item evicts one
      const figures = spent.get(`${kind} ${bound}`) ?? []
      figures.push(await timeClaims(claimer, CLAIMS))
      spent.set(`${kind} ${bound}`, figures)
    }
  }
}

const of = (kind: Kind, bound: number) => median(spent.get(`${kind} ${bound}`)!)
const fixed = (value: number) => value.toFixed(2)
process.stdout.write(
  `${CLAIMS} new items a round, ${PER_CALL} a call, ${ROUNDS} rounds; us per claim, median of the rounds\n\n` +
    '| bound | memory store | bare Map | store minus bare Map |\n|---|---|---|---|\n',
)
for (const bound of BOUNDS) {
  process.stdout.write(`| ${bound} | ${fixed(of('store', bound))} | ${fixed(of('bare', bound))} | ${fixed(of('store', bound) - of('bare', bound))} |\n`)
}
