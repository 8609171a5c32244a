// `npx tsx bench/batch-stages.ts`: where a /dedupe/batch event's time goes on the memory store, in process, without
// HTTP: each stage of the route timed over batches of 100 unique explicit events, as `npm run bench` sends them.
// The store runs at its default bound (BENCH_MEMORY_MAX_ITEMS sets another), filled first so that it evicts as a
// long-running one does. Garbage collection lands in whichever stage allocates when it runs.
// A last pass, timed apart, gives the bytes each stage allocates an event: the heap's growth across the stage, from
// batches in which no collection ran (one would shrink the heap between two stages, and such a batch is left out).
import v8 from 'node:v8'
import { newestFirstByItem } from '../src/domain/batch-collapse.js'
import { readDedupeRequest } from '../src/domain/dedupe-event.js'
import { loadConfig } from '../src/config.js'
import { respond, toClaimInput } from '../src/routes/dedupe.js'
import { batchEnvelopeSchema, dedupeRequestSchema } from '../src/routes/dedupe-schemas.js'
import { MemoryDedupeStore } from '../src/stores/memory/dedupe.js'
import { median, memoryStoreEnv, uniqueEvent } from './harness.js'

const BATCH = 100
const BATCHES = Number(process.env.BENCH_BATCHES ?? 3_000)
const ROUNDS = 3
const config = loadConfig({ ...memoryStoreEnv(), LOG_LEVEL: 'silent' })
const store = new MemoryDedupeStore({ maxItems: config.memoryMaxItems })
const makeBodies = (count: number) => Array.from({ length: count }, () => JSON.stringify({ events: Array.from({ length: BATCH }, uniqueEvent) }))

const STAGES = ['JSON.parse', 'zod (envelope + each event)', 'readDedupeRequest', 'collapse by item', 'memory claim', 'answer objects', 'JSON.stringify'] as const
type Stage = (typeof STAGES)[number]

/**
 * One batch through the route's stages; adds each stage's milliseconds to `spent`, or with `measure` 'bytes' its
 * heap growth in bytes. Answers false when the heap shrank between two stages (a collection ran): no bytes then.
 */
async function decide(text: string, spent: Record<Stage, number>, measure: 'time' | 'bytes' = 'time'): Promise<boolean> {
  const read = measure === 'time' ? () => performance.now() : () => v8.getHeapStatistics().used_heap_size
  const grown: Array<[Stage, number]> = []
  let mark = read()
  const lap = (stage: Stage) => {
    const now = read()
    if (measure === 'time') {
      spent[stage] += now - mark
      mark = now
    } else {
      grown.push([stage, now - mark])
      mark = read() // (not counting the statistics object just made)
    }
  }
  const body = JSON.parse(text) as { events: unknown[] }
  lap('JSON.parse')
  batchEnvelopeSchema.parse(body)
  const parsed = body.events.map((raw) => dedupeRequestSchema.parse(raw))
  lap('zod (envelope + each event)')
  const events = parsed.map((event) => readDedupeRequest(event, { leaseMs: config.defaultLeaseMs, allowFanOut: true })[0])
  lap('readDedupeRequest')
  const groups = newestFirstByItem(events)
  lap('collapse by item')
  if (groups.length !== events.length) throw new Error('the bodies should hold one event per item')
  const now = Date.now()
  const results = await store.claimMany(events.map((event) => toClaimInput(event, now, config.dedupeTtlMs)))
  lap('memory claim')
  const answer = { results: events.map((event, i) => respond(event, results[i])) }
  lap('answer objects')
  JSON.stringify(answer)
  lap('JSON.stringify')
  if (grown.some(([, delta]) => delta < 0)) return false
  for (const [stage, delta] of grown) spent[stage] += delta
  return true
}

// Fill the store to its bound (or with BATCHES batches, if fewer), so the rounds measure a store that evicts.
const filling = Math.min(Math.ceil(config.memoryMaxItems / BATCH), BATCHES)
const fillSpent = Object.fromEntries(STAGES.map((stage) => [stage, 0])) as Record<Stage, number>
for (const text of makeBodies(filling)) await decide(text, fillSpent)

const rounds: Array<Record<Stage, number>> = []
for (let round = 0; round < ROUNDS; round++) {
  const bodies = makeBodies(BATCHES)
  const spent = Object.fromEntries(STAGES.map((stage) => [stage, 0])) as Record<Stage, number>
  for (const text of bodies) await decide(text, spent)
  rounds.push(spent)
}
const microsPerEvent = (ms: number) => Math.round(((ms * 1000) / (BATCHES * BATCH)) * 100) / 100
process.stdout.write(
  `${BATCHES} batches of ${BATCH} a round, ${ROUNDS} rounds, memory store bound ${config.memoryMaxItems} (${store.size} items held at the end); us per event, median of the rounds\n\n| stage | us per event |\n|---|---|\n`,
)
for (const stage of STAGES) process.stdout.write(`| ${stage} | ${microsPerEvent(median(rounds.map((spent) => spent[stage])))} |\n`)
const totals = rounds.map((spent) => STAGES.reduce((sum, stage) => sum + spent[stage], 0))
process.stdout.write(`| all stages | ${microsPerEvent(median(totals))} |\n`)

// Bytes: a tenth of a round's batches (20 at least), each counted only if no collection ran during it (about one
// batch in thirty has one).
const bytes = Object.fromEntries(STAGES.map((stage) => [stage, 0])) as Record<Stage, number>
let counted = 0
const sample = makeBodies(Math.max(20, Math.round(BATCHES / 10)))
for (const text of sample) if (await decide(text, bytes, 'bytes')) counted++
if (counted === 0) throw new Error('a collection ran during every batch of the bytes pass')
const bytesPerEvent = (total: number) => Math.round(total / (counted * BATCH))
process.stdout.write(`\nbytes allocated an event (heap growth, ${counted} of ${sample.length} batches without a collection)\n\n| stage | bytes per event |\n|---|---|\n`)
for (const stage of STAGES) process.stdout.write(`| ${stage} | ${bytesPerEvent(bytes[stage])} |\n`)
process.stdout.write(`| all stages | ${bytesPerEvent(STAGES.reduce((sum, stage) => sum + bytes[stage], 0))} |\n`)
