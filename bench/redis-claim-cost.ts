// `npx tsx bench/redis-claim-cost.ts`: redis-server CPU per claim for the real batch claim script, beside stripped
// scripts that show what the cost is made of: the same three commands with fixed values, the same with the claim's
// six fields packed into one (a layout the store does not use: what it would save), and the call alone (arguments
// in, a flat answer out, no command). Every script takes the arguments as the store sends them (one JSON string,
// decoded by cjson); the last row sends them one by one, as the store did before. A Redis of its own, new items only
// (as the benchmark's batches), BENCH_PER_CALL claims a call (default 100, a batch's; single /dedupe requests under
// the benchmark's load gather about 5 a call), BENCH_CALLS calls (default 30,000 claims' worth: redis-server's CPU is
// read in clock ticks, and the table says what one tick is worth a claim), rounds interleaved, medians.
import { Redis } from 'ioredis'
import { TICKS_PER_SECOND, cpuMicros, median } from './harness.js'
import { CLAIM_ARG_COUNT, CLAIM_MANY_LUA } from '../src/stores/redis/dedupe-scripts.js'
import { RedisServer } from '../test/support/redis-server.js'

const PER_CALL = Number(process.env.BENCH_PER_CALL ?? 100)
const CALLS = Number(process.env.BENCH_CALLS ?? Math.ceil(30_000 / PER_CALL))
if (!Number.isInteger(PER_CALL) || PER_CALL < 1 || !Number.isInteger(CALLS) || CALLS < 1) {
  throw new Error('BENCH_PER_CALL and BENCH_CALLS must be whole numbers of at least 1')
}
const ROUNDS = 3

// Every script answers the same flat string per claim, so only what runs before it differs.
const ANSWER = `
local replies = {}
for i = 1, #KEYS do replies[i] = 'process|new_version|1.token|1' end
return replies
`
/**
 * The claim's three commands with fixed values: HMGET of `read` (and the version's mark), HSET of `write`, PEXPIRE;
 * the arguments come as the store sends them, one JSON string.
 */
const commands = (read: string, write: string) => `
local A = cjson.decode(ARGV[1])
for i = 1, #KEYS do
  local k = KEYS[i]
  redis.call('HMGET', k, ${read}, 'v:' .. A[(i - 1) * ${CLAIM_ARG_COUNT} + 1])
  redis.call('HSET', k, ${write})
  redis.call('PEXPIRE', k, 3600000)
end
${ANSWER}`
const COMMANDS_ONLY = commands(
  `'seq', 'ct', 'ce', 'lv', 'lm', 'lf', 'lc', 'la', 'hi', 'vi'`,
  `'seq', '1', 'ct', '1.token', 'cv', 'v1', 'ce', '1', 'cm', '1', 'cf', '', 'cc', 'updated', 'cx', '', 'h0', 'entry', 'hi', '1'`,
)
const PACKED_COMMANDS = commands(`'seq', 'c', 'lv', 'lm', 'lf', 'lc', 'la', 'hi', 'vi'`, `'seq', '1', 'c', '1.token|v1|1|1||updated|', 'h0', 'entry', 'hi', '1'`)
// How the arguments travel: 'json' as CLAIM_MANY_LUA takes them, 'separate' as ARGV one by one.
const scripts: Record<string, { lua: string; args: 'json' | 'separate' }> = {
  'claim script (CLAIM_MANY_LUA)': { lua: CLAIM_MANY_LUA, args: 'json' },
  'its three commands, fixed values': { lua: COMMANDS_ONLY, args: 'json' },
  'the same, the claim packed into one field': { lua: PACKED_COMMANDS, args: 'json' },
  'the call alone, no command, arguments as one JSON string': { lua: `local A = cjson.decode(ARGV[1])${ANSWER}`, args: 'json' },
  'the call alone, no command, arguments one by one': { lua: ANSWER, args: 'separate' },
}

const server = await RedisServer.start()
const client = new Redis(server.url, { enableAutoPipelining: false })
try {
  const shas: Record<string, string> = Object.fromEntries(
    await Promise.all(Object.entries(scripts).map(async ([name, { lua }]) => [name, (await client.script('LOAD', lua)) as string])),
  )
  let item = 0
  const call = (sha: string, form: 'json' | 'separate') => {
    const keys: string[] = []
    const args: string[] = []
    const now = Date.now()
    for (let i = 0; i < PER_CALL; i++) {
      item++
      keys.push(`css:{bench|outlook|item-${item}}:d`)
      // the ARGV of CLAIM_LUA: version, modifiedAt, changeType, fingerprint, flags, now, ttlMs, nonce, meta, expiresAt,
      // covered versions, superseded versions
      const claim = ['v1', String(1773048605000 + item), 'updated', '', '', String(now), '3600000', 'AAAAAAAAAAAAAAAAAAAAAA', '', String(now + 60000), '', '']
      if (claim.length !== CLAIM_ARG_COUNT) throw new Error(`CLAIM_LUA takes ${CLAIM_ARG_COUNT} arguments a claim; this benchmark sends ${claim.length}`)
      args.push(...claim)
    }
    return form === 'json' ? client.evalsha(sha, keys.length, ...keys, JSON.stringify(args)) : client.evalsha(sha, keys.length, ...keys, ...args)
  }
  const perClaim: Record<string, number[]> = Object.fromEntries(Object.keys(scripts).map((name) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, sha] of Object.entries(shas)) {
      const form = scripts[name].args
      for (let i = 0; i < 20; i++) await call(sha, form) // warm-up
      const before = cpuMicros(server.pid)
      for (let i = 0; i < CALLS; i++) await call(sha, form)
      const after = cpuMicros(server.pid)
      if (before === undefined || after === undefined) throw new Error('redis-server CPU is read from /proc: Linux only')
      perClaim[name].push((after - before) / (CALLS * PER_CALL))
      await client.flushall()
    }
  }
  const tickPerClaim = 1e6 / TICKS_PER_SECOND / (CALLS * PER_CALL)
  process.stdout.write(
    `redis-server CPU per claim, ${PER_CALL} new items a call, ${CALLS} calls, median of ${ROUNDS} rounds; CPU is read in ticks of ${tickPerClaim.toFixed(2)} us a claim\n\n| script | us per claim |\n|---|---|\n`,
  )
  for (const [name, values] of Object.entries(perClaim)) process.stdout.write(`| ${name} | ${median(values).toFixed(1)} |\n`)
} finally {
  client.disconnect()
  await server.destroy()
}
