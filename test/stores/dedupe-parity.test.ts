// Random sequences of claims, commits, releases and sync writes give the same answers from the memory store and the Lua scripts.
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import type { ItemKey } from '../../src/domain/keys.js'
import type { DedupeStore } from '../../src/stores/dedupe-store.js'
import { createStore } from '../../src/stores/index.js'
import { MemoryDedupeStore } from '../../src/stores/memory/dedupe.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'

const LEASE = 60_000
const TTL = 3_600_000

const claimOp = fc.record({
  kind: fc.constant('claim' as const),
  version: fc.constantFrom('v0', 'v1', 'v2', 'v3'),
  modifiedAt: fc.option(fc.constantFrom(100, 200, 300), { nil: undefined }),
  changeType: fc.option(fc.constantFrom('created', 'updated', 'deleted', 'undeleted') as fc.Arbitrary<'created' | 'updated' | 'deleted' | 'undeleted'>, { nil: undefined }),
  fingerprint: fc.option(fc.constantFrom('A', 'B'), { nil: undefined }),
  gap: fc.boolean(),
  // what a batch claim supersedes; its own version and repeats included, which both stores must skip alike
  covers: fc.option(fc.array(fc.constantFrom('v0', 'v1', 'v2', 'v3', 'w1'), { maxLength: 4 }), { nil: undefined }),
  // the batch events the decision supersedes, recorded in the history unless it is a duplicate
  superseded: fc.option(fc.array(fc.constantFrom('v0', 'v1', 'v2', 'w1', 'x|y'), { maxLength: 25 }), { nil: undefined }),
  advance: fc.integer({ min: 0, max: 70_000 }),
})
const commitOp = fc.record({
  kind: fc.constant('commit' as const),
  pick: fc.nat(),
  version: fc.option(fc.constantFrom('v1', 'w1'), { nil: undefined }),
  fingerprint: fc.option(fc.constantFrom('A', 'B'), { nil: undefined }),
  advance: fc.integer({ min: 0, max: 70_000 }),
})
const releaseOp = fc.record({ kind: fc.constant('release' as const), pick: fc.nat(), advance: fc.integer({ min: 0, max: 70_000 }) })
const writtenOp = fc.record({ kind: fc.constant('written' as const), fingerprint: fc.constantFrom('A', 'B', ''), advance: fc.integer({ min: 0, max: 70_000 }) })
const operations = fc.array(fc.oneof({ arbitrary: claimOp, weight: 3 }, commitOp, releaseOp, writtenOp), { minLength: 1, maxLength: 15 })

type Operation = typeof operations extends fc.Arbitrary<Array<infer O>> ? O : never

/** Runs the operations on one store; tokens are named by issue order so the two stores' answers compare. */
async function play(store: DedupeStore, key: ItemKey, ops: Operation[]): Promise<unknown[]> {
  const tokens: string[] = []
  const nameOf = (token: string) => `#${tokens.indexOf(token)}`
  const tokenAt = (pick: number) => (tokens.length === 0 || pick % 5 === 4 ? '77.invented' : tokens[pick % tokens.length])
  let now = 1_800_000_000_000
  const answers: unknown[] = []
  for (const op of ops) {
    now += op.advance
    if (op.kind === 'claim') {
      const { kind, advance, ...facts } = op
      const result = await store.claim({ key, ...facts, leaseMs: LEASE, now, ttlMs: TTL })
      if (result.claim) tokens.push(result.claim.token)
      answers.push(result.claim ? { ...result, claim: { ...result.claim, token: nameOf(result.claim.token) } } : result)
    } else if (op.kind === 'commit') {
      answers.push(await store.commit({ key, token: tokenAt(op.pick), version: op.version, fingerprint: op.fingerprint, now, ttlMs: TTL }))
    } else if (op.kind === 'written') {
      answers.push(await store.recordWritten({ key, fingerprint: op.fingerprint, now, ttlMs: TTL }))
    } else {
      answers.push(await store.release({ key, token: tokenAt(op.pick), now }))
    }
  }
  answers.push(await store.get(key, now))
  return answers
}

const skip = redisSkipReason()
if (skip) {
  t.test('dedupe parity', { skip }, async () => {})
} else {
  const server = await RedisServer.start()
  t.teardown(() => server.destroy())
  const redis = await createStore(loadConfig({ REDIS_URL: server.url }))
  t.teardown(() => redis.close())

  t.test('memory and redis agree on every answer', async (t) => {
    await fc.assert(
      fc.asyncProperty(operations, async (ops) => {
        const key: ItemKey = { tenant: 'parity', system: 'salesforce', itemId: randomUUID() }
        const memory = new MemoryDedupeStore({ maxItems: 100 })
        t.strictSame(await play(redis.dedupe, key, ops), await play(memory, key, ops), JSON.stringify(ops))
      }),
      { numRuns: 150 },
    )
  })
}
