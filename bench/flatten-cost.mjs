// `node bench/flatten-cost.mjs`: what ioredis spends building one script call of 100 claims, with the claims'
// arguments sent one by one against the same arguments as one JSON string (how the MANY scripts take them).
// ioredis' Command constructor runs Array.prototype.flat over the arguments, which on Node 20 is slow per element.
import Redis from 'ioredis'

const { Command } = Redis
const CLAIMS = 100
const ARGS_PER_CLAIM = 10
const CALLS = 5_000
const keys = Array.from({ length: CLAIMS }, (_, i) => `css:{default:outlook:bench-item-${i}}:d`)
const args = Array.from({ length: CLAIMS * ARGS_PER_CLAIM }, (_, i) => `argument-${i}`)
const sha = 'f'.repeat(40)
let sink
const time = (name, build) => {
  const start = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i++) sink = build()
  const perCall = Number(process.hrtime.bigint() - start) / CALLS / 1000
  process.stdout.write(`${name.padEnd(58)} ${perCall.toFixed(1)} us a call, ${(perCall / CLAIMS).toFixed(2)} us a claim\n`)
}
process.stdout.write(`node ${process.version}, V8 ${process.versions.v8}; ${CLAIMS} claims of ${ARGS_PER_CLAIM} arguments\n`)
for (let round = 0; round < 2; round++) {
  time('arguments one by one: command built and written', () => new Command('evalsha', [sha, CLAIMS, keys, args]).toWritable())
  time('arguments as one JSON string: command built and written', () => new Command('evalsha', [sha, CLAIMS, keys, JSON.stringify(args)]).toWritable())
  time('Array.prototype.flat alone, arguments one by one', () => [sha, CLAIMS, keys, args].flat())
}
if (sink === undefined) process.exitCode = 1
