// `npm run build && npx tsx bench/large-batch.ts`: how long other requests wait while the sidecar decides one very
// large /dedupe/batch: 500 Salesforce change events of 100 recordIds each (50,000 claims, about 1 MB in and 16 MB out),
// on the memory store and on Redis (a redis-server of its own). Meanwhile /healthz is asked every 5 ms, one call after
// another; the longest of those calls is reported beside the batch's own time. BENCH_EVENTS and BENCH_RECORDS set
// the batch's size, BENCH_SERVER the server script (default dist/server.js; npm test runs src/server.ts, tiny).
import { RedisServer } from '../test/support/redis-server.js'
import { memoryStoreEnv, serverTarget, stop, type Target } from './harness.js'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 500)
const RECORDS = Number(process.env.BENCH_RECORDS ?? 100)
const SERVER = process.env.BENCH_SERVER ?? 'dist/server.js'

const recordIds = (event: number) => Array.from({ length: RECORDS }, (_, i) => `00U${String(event * 100_000 + i).padStart(13, '0')}AQ`)
const body = JSON.stringify({
  events: Array.from({ length: EVENTS }, (_, event) => ({
    changeEvent: {
      ChangeEventHeader: { entityName: 'Event', recordIds: recordIds(event), changeType: 'UPDATE', transactionKey: `tx-${event}`, sequenceNumber: 1, commitTimestamp: 1773048605000 },
      LastModifiedDate: '2026-03-09T09:30:05Z',
    },
  })),
})

async function measure(target: Target) {
  const { url, child } = await target.start()
  try {
    let longest = 0
    let done = false
    const probe = (async () => {
      while (!done) {
        const sent = performance.now()
        await (await fetch(`${url}/healthz`)).arrayBuffer()
        longest = Math.max(longest, performance.now() - sent)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    await new Promise((resolve) => setTimeout(resolve, 200))
    const sent = performance.now()
    const res = await fetch(`${url}/dedupe/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const answer = await res.text()
    const took = performance.now() - sent
    await new Promise((resolve) => setTimeout(resolve, 200))
    done = true
    await probe
    if (res.status !== 200) throw new Error(`the batch was answered ${res.status}: ${answer.slice(0, 300)}`)
    process.stdout.write(`| ${target.name} | ${Math.round(took)} | ${Math.round(longest)} | ${(answer.length / 1e6).toFixed(1)} |\n`)
  } finally {
    await stop(child)
  }
}

const redis = await RedisServer.start()
try {
  process.stdout.write(`one /dedupe/batch of ${EVENTS} change events x ${RECORDS} recordIds (${EVENTS * RECORDS} claims, ${(body.length / 1e6).toFixed(1)} MB)\n\n`)
  process.stdout.write('| store | batch answered in ms | longest /healthz call meanwhile, ms | answer MB |\n|---|---|---|---|\n')
  await measure(serverTarget('memory', SERVER, async () => memoryStoreEnv()))
  await measure(serverTarget('redis', SERVER, async () => ({ REDIS_URL: redis.url })))
} finally {
  await redis.destroy()
}
