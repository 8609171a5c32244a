// Configuration: defaults, store selection, durations, and fail-fast messages that name the variable.
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

t.test('defaults serve on loopback with the memory store', async (t) => {
  const config = loadConfig({})
  t.equal(config.host, '127.0.0.1')
  t.equal(config.port, 8080)
  t.equal(config.store, 'memory')
  t.equal(config.dedupeTtlMs, 7 * 86_400_000)
  t.equal(config.defaultLeaseMs, 60_000)
  t.equal(config.echoWindowMs, 600_000)
  t.equal(config.storeOutagePolicy, 'fail-closed')
  t.equal(config.bodyLimitBytes, 1024 * 1024)
  t.equal(config.batchBodyLimitBytes, 8 * 1024 * 1024)
  t.equal(config.prefilter, undefined)
})

t.test('store selection', async (t) => {
  t.equal(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).store, 'redis', 'REDIS_URL alone selects Redis')
  t.equal(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001' }).store, 'redis-cluster')
  t.throws(() => loadConfig({ STORE: 'redis' }), /REDIS_URL/)
  t.throws(() => loadConfig({ STORE: 'memory', REDIS_URL: 'redis://x:1' }), /STORE/)
  t.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'nohost' }), /REDIS_CLUSTER_NODES/)
  // a URL that does not parse is named, not a TypeError at start-up
  t.throws(() => loadConfig({ REDIS_URL: 'localhost:6379' }), { name: 'ConfigError', message: /REDIS_URL: .*redis:\/\// })
  t.throws(() => loadConfig({ REDIS_URL: 'http://x:1' }), { name: 'ConfigError', message: /REDIS_URL/ })
  t.throws(() => loadConfig({ REDIS_URL: 'redis://[::1' }), { name: 'ConfigError', message: /REDIS_URL/ })
  t.throws(() => loadConfig({ REDIS_URL: 'not a url', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }), { name: 'ConfigError', message: /REDIS_URL/ })
  t.equal(loadConfig({ REDIS_URL: 'rediss://user:p%40ss@cache.example:6380/0' }).store, 'redis')
  const prefilter = { PREFILTER_EVENTHUB_CONNECTION_STRING: 'Endpoint=sb://x/;EntityPath=h' }
  t.throws(() => loadConfig({ ...prefilter, PREFILTER_FORWARD_URL: 'sidecar:8081/changes' }), { name: 'ConfigError', message: /PREFILTER_FORWARD_URL/ })
  t.throws(() => loadConfig({ ...prefilter, PREFILTER_FORWARD_URL: 'ftp://mule/changes' }), { name: 'ConfigError', message: /PREFILTER_FORWARD_URL/ })
})

t.test('durations take milliseconds or strings', async (t) => {
  const config = loadConfig({ DEDUPE_TTL: '3d', ECHO_WINDOW: '90000', DEFAULT_LEASE_MS: '2m' })
  t.equal(config.dedupeTtlMs, 3 * 86_400_000)
  t.equal(config.echoWindowMs, 90_000)
  t.equal(config.defaultLeaseMs, 120_000)
  t.throws(() => loadConfig({ ECHO_WINDOW: 'soon' }), /ECHO_WINDOW/)
  t.throws(() => loadConfig({ DEFAULT_LEASE_MS: '10' }), /DEFAULT_LEASE_MS/)
})

t.test('bad values fail fast naming the variable', async (t) => {
  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['STORE_OUTAGE_POLICY', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['ALLOW_UNAUTHENTICATED', 'perhaps'],
    ['MEMORY_MAX_ITEMS', '0'],
  ]) {
    t.throws(() => loadConfig({ [name]: value }), new RegExp(name), `${name}=${value}`)
  }
  t.throws(() => loadConfig({ PORT: 'x' }), ConfigError)
})

t.test('refuses to start open on a non-loopback address', async (t) => {
  t.throws(() => loadConfig({ HOST: '0.0.0.0' }), /API_TOKENS/)
  t.equal(loadConfig({ HOST: '0.0.0.0', API_TOKENS: 'a,b' }).apiTokens.length, 2)
  t.equal(loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'true' }).allowUnauthenticated, true)
  t.throws(() => loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'off' }), /ALLOW_UNAUTHENTICATED: must be true or false \(1 or 0, yes or no are taken too\)/, 'the refusal says what is taken')
  t.throws(() => loadConfig({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED: 'no' }), /API_TOKENS/, 'no is false: still refused open')
  t.equal(loadConfig({ HOST: '::1' }).host, '::1')
  t.equal(loadConfig({ HOST: '0.0.0.0' }, { api: false }).host, '0.0.0.0', 'a process without business routes (the standalone pre-filter) needs no token')
})

t.test('the pre-filter is enabled by its connection string and checked', async (t) => {
  t.throws(() => loadConfig({ PREFILTER_EVENTHUB_CONNECTION_STRING: 'Endpoint=sb://x/;EntityPath=h' }), /PREFILTER_FORWARD_URL/)
  const config = loadConfig({ PREFILTER_EVENTHUB_CONNECTION_STRING: 'Endpoint=sb://x/;EntityPath=h', PREFILTER_FORWARD_URL: 'http://127.0.0.1:8081/x', PREFILTER_CLIENT_STATES: 'a, b' })
  t.same(config.prefilter?.clientStates, ['a', 'b'])
  t.equal(config.prefilter?.quietMs, 2000)
  t.equal(config.prefilter?.maxWaitMs, 10000)
  t.equal(config.prefilter?.consumerGroup, '$Default')
  t.throws(() => loadConfig({ PREFILTER_EVENTHUB_CONNECTION_STRING: 'x', PREFILTER_FORWARD_URL: 'http://h/', PREFILTER_CHECKPOINT_STORE: 'redis' }), /PREFILTER_CHECKPOINT_STORE/)
})
