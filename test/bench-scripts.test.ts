// The benchmark scripts that need no build still run (large-batch.ts runs the sources for it): each at a tiny size, so
// a change to what they call (a script's arguments, a stage's signature) fails here rather than on the day someone
// measures. Their figures are not checked.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)
const root = new URL('..', import.meta.url)

const scripts: Array<{ script: string; env: Record<string, string>; prints: RegExp; nodeArgs?: string[] }> = [
  { script: 'bench/redis-claim-cost.ts', env: { BENCH_CALLS: '2' }, prints: /\| claim script \(CLAIM_MANY_LUA\) \| \d+\.\d \|/ },
  { script: 'bench/redis-claim-cost.ts', env: { BENCH_CALLS: '2', BENCH_PER_CALL: '5' }, prints: /5 new items a call, 2 calls[\s\S]*\| claim script \(CLAIM_MANY_LUA\) \| \d+\.\d \|/ },
  { script: 'bench/batch-stages.ts', env: { BENCH_BATCHES: '5' }, prints: /\| all stages \| \d+\.\d+ \|[\s\S]*bytes allocated an event[\s\S]*\| all stages \| \d+ \|/ },
  { script: 'bench/claim-floor.ts', env: { BENCH_CLAIMS: '200', BENCH_ROUNDS: '1', BENCH_FLOOR_BOUNDS: '100,1000' }, prints: /\| 100 \| \d+\.\d\d \| \d+\.\d\d \| -?\d+\.\d\d \|\n\| 1000 \|/ },
  { script: 'bench/memory-footprint.ts', env: { FOOTPRINT_ITEMS: '1000' }, prints: /"items":1000,"bytesPerItem":\d+/, nodeArgs: ['--expose-gc'] },
  { script: 'bench/large-batch.ts', env: { BENCH_EVENTS: '3', BENCH_RECORDS: '4', BENCH_SERVER: 'src/server.ts' }, prints: /\| memory \| \d+ \| \d+ \| [\d.]+ \|\n\| redis \| \d+ \| \d+ \| [\d.]+ \|/ },
  { script: 'bench/prefilter-collapse.ts', env: { BENCH_NOTIFICATIONS: '1000' }, prints: /"notifications":1000,.*"checkpointAtLastEvent":true/ },
]

for (const { script, env, prints, nodeArgs = [] } of scripts) {
  t.test(`${script} ${JSON.stringify(env)}`, async (t) => {
    const { stdout } = await run(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
      cwd: root,
      env: { ...process.env, ...env },
      timeout: 60_000,
    })
    t.match(stdout, prints)
  })
}

// A bad setting stops a script at once, naming the setting, before it measures anything (or starts a server).
const refusals: Array<{ script: string; env: Record<string, string>; says: RegExp }> = [
  { script: 'bench/redis-claim-cost.ts', env: { BENCH_PER_CALL: '0' }, says: /BENCH_PER_CALL and BENCH_CALLS must be whole numbers of at least 1/ },
  { script: 'bench/breakdown.ts', env: { BREAKDOWN_STEPS: 'both' }, says: /BREAKDOWN_STEPS must be all, memory or redis, not both/ },
  { script: 'bench/breakdown.ts', env: { BREAKDOWN_SPIN_US: '3,-1' }, says: /BREAKDOWN_SPIN_US must be positive numbers/ },
  { script: 'bench/baseline-server.ts', env: { BASELINE_BARE_MAP: '1.5', PORT: '0' }, says: /BASELINE_BARE_MAP must be a whole number of at least 0, not 1\.5/ },
  { script: 'bench/baseline-server.ts', env: { BASELINE_SPIN_US: 'abc', PORT: '0' }, says: /BASELINE_SPIN_US must be a number of at least 0, not abc/ },
]

for (const { script, env, says } of refusals) {
  t.test(`${script} refuses ${JSON.stringify(env)}`, async (t) => {
    const failed = await run(process.execPath, ['--import', 'tsx', script], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    )
    t.ok(failed, 'the script exits with an error')
    t.not(failed?.code, 0)
    t.match(failed?.stderr ?? '', says)
  })
}
