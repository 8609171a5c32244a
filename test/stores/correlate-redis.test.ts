// Runs the CorrelateStore contract against a real redis-server started by this test, plus the key layout.
import { Redis } from 'ioredis'
import t from 'tap'
import { correlateKeys, createKeyKey, RedisCorrelateStore } from '../../src/stores/redis/correlate.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'
import { runCorrelateContract } from './correlate-contract.js'

const skip = redisSkipReason()
if (skip) {
  t.test('redis correlate store', { skip }, async () => {})
} else {
  const server = await RedisServer.start()
  const client = new Redis(server.url, { protocol: 2, maxRetriesPerRequest: 0, lazyConnect: false })
  t.teardown(async () => {
    client.disconnect()
    await server.destroy()
  })
  const store = new RedisCorrelateStore(client)
  runCorrelateContract(t, () => store)

  t.test('all of a tenant\'s keys share one hash tag; links have no TTL', async (t) => {
    const o = correlateKeys('acme', { system: 'outlook', itemId: 'AAMk{x}' })
    const s = correlateKeys('acme', { system: 'salesforce', itemId: '00U1' })
    const tags = [o.link, o.reservation, o.ledger, s.link].map((key) => /\{([^}]*)\}/.exec(key)?.[1])
    t.same(tags, ['c:acme', 'c:acme', 'c:acme', 'c:acme'], 'one hash tag (slots are checked in correlate-redis-cluster.test.ts)')
    await store.confirm({
      tenant: 'acme',
      source: { system: 'outlook', itemId: 'AAMk{x}' },
      target: { system: 'salesforce', itemId: '00U1' },
      writtenFingerprint: 'fp',
      now: Date.now(),
      echoWindowMs: 600_000,
      tombstoneTtlMs: 3_600_000,
    })
    t.equal(await client.pttl(o.link), -1, 'links live until unlinked')
    t.equal(await client.pttl(s.link), -1)
    t.ok((await client.pttl(s.ledger)) > 600_000, 'the ledger lives the window plus a grace')
  })

  t.test('a createKey entry and what the create wrote share the tenant\'s hash tag and live createKeyTtlMs', async (t) => {
    const key = createKeyKey('acme', 'css-0123456789abcdef0123456789abcdef')
    t.equal(/\{([^}]*)\}/.exec(key)?.[1], 'c:acme')
    const created = await store.decide({
      tenant: 'acme',
      system: 'salesforce',
      itemId: '00U{ttl}',
      changeType: 'created',
      echoBySource: false,
      token: 'tok',
      createKey: 'css-0123456789abcdef0123456789abcdef',
      leaseMs: 60_000,
      createKeyTtlMs: 3_600_000,
      echoWindowMs: 600_000,
      fingerprint: 'fp-made',
      state: { subject: 'made' },
      now: Date.now(),
    })
    t.equal(created.action, 'create')
    const pttl = await client.pttl(key)
    t.ok(pttl > 3_000_000 && pttl <= 3_600_000, `pttl ${pttl}`)
    t.same(await client.hmget(key, 'sys', 'id'), ['salesforce', '00U{ttl}'])
    const made = correlateKeys('acme', { system: 'salesforce', itemId: '00U{ttl}' }).createState
    t.equal(/\{([^}]*)\}/.exec(made)?.[1], 'c:acme')
    const madeTtl = await client.pttl(made)
    t.ok(madeTtl > 3_000_000 && madeTtl <= 3_600_000, `pttl ${madeTtl}`)
    t.same(await client.hmget(made, 'fp', 'st'), ['fp-made', '{"subject":"made"}'])
  })
}
