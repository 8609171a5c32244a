// `node bench/object-spread.mjs`: what `{ ...object, more }` costs on this Node against the literal written out.
// On Node 20 (V8 11.3) a spread followed by more properties takes a slow path; a spread alone does not.
const N = 1_000_000
const keys = Array.from({ length: 1000 }, (_, i) => ({ tenant: 'default', system: 'outlook', itemId: `item-${i}` }))
// the shape of a decoded /dedupe event
const events = keys.map((key, i) => ({ key, version: 'v1', modifiedAt: 1773048605000 + i, changeType: 'updated', fingerprint: undefined, gap: false, overflow: false, leaseMs: 60_000 }))
let sink
const time = (name, make, from = keys) => {
  const start = process.hrtime.bigint()
  for (let i = 0; i < N; i++) sink = make(from[i % from.length])
  process.stdout.write(`${name.padEnd(48)} ${(Number(process.hrtime.bigint() - start) / N).toFixed(1)} ns\n`)
}
process.stdout.write(`node ${process.version}, V8 ${process.versions.v8}\n`)
for (let round = 0; round < 2; round++) {
  time('{ ...key }', (key) => ({ ...key }))
  time('{ ...key, version }', (key) => ({ ...key, version: 'v1' }))
  time('{ tenant, system, itemId, version } written out', (key) => ({ tenant: key.tenant, system: key.system, itemId: key.itemId, version: 'v1' }))
  time('{ ...event, now, ttlMs }', (event) => ({ ...event, now: 1, ttlMs: 2 }), events)
}
if (sink === undefined) process.exitCode = 1
