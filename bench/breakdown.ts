// `npm run bench:breakdown`: where /dedupe's cost goes on the memory store. Each step runs in a fresh process under
// the same load as `npm run bench`; the table shows requests/s against the bare route and CPU per request.
//   bare route            the baseline of `npm run bench`
//   bare route + N us     the same with a busy loop of N us (BREAKDOWN_SPIN_US, default 3,6,10): how requests/s
//                         fall as the server gets slower, and what it pays beyond N once it is the slower side
//   + coalesced writes    the bare route writing its answers as the sidecar does (src/plugins/coalesce-writes.ts),
//                         with the largest busy loop: what the sidecar's way of writing gains a route that is slower
//                         than its client, apart from the route's own work
//   sidecar stack         the sidecar's app (logger, correlation id, metrics, body guard, overload check, answers
//                         written together once per pass), no schema
//   + zod validation      the /dedupe request schema (answers are serialised with JSON.stringify, unchecked)
//   + memory claim        readDedupeRequest and the memory store's claim
//   /dedupe               the real route: reasons, claim token, last state, decision metrics
import { CONNECTIONS, ROUNDS, SECONDS, measure, median, memoryStoreEnv, posts, serverTarget, uniqueEvent, type Target } from './harness.js'

// Busy loops to add to the bare route, in us: several show where a slower server starts to lose requests/s.
const SPINS_US = (process.env.BREAKDOWN_SPIN_US ?? '3,6,10').split(',').map(Number)
if (SPINS_US.some((us) => !(us > 0))) throw new Error(`BREAKDOWN_SPIN_US must be positive numbers separated by commas, not ${process.env.BREAKDOWN_SPIN_US}`)
const memory = async () => memoryStoreEnv()
const bareRoute = (env: Record<string, string>) => async () => env
const sidecarStep = (path: string) => ({ target: serverTarget(path, 'bench/breakdown-server.mjs', memory), path })
// `after`: the step whose CPU this one adds to
const steps: Array<{ name: string; after?: string; target: Target; path: string }> = [
  { name: 'bare route', target: serverTarget('bare', 'bench/baseline-server.ts', bareRoute({})), path: '/dedupe' },
  ...SPINS_US.map((us) => ({
    name: `bare route + ${us} us busy loop`,
    after: 'bare route',
    target: serverTarget(`spin ${us}`, 'bench/baseline-server.ts', bareRoute({ BASELINE_SPIN_US: String(us) })),
    path: '/dedupe',
  })),
  {
    name: `bare route + ${Math.max(...SPINS_US)} us busy loop + coalesced writes`,
    after: `bare route + ${Math.max(...SPINS_US)} us busy loop`,
    target: serverTarget('spin coalesced', 'bench/baseline-server.ts', bareRoute({ BASELINE_SPIN_US: String(Math.max(...SPINS_US)), BASELINE_COALESCE: '1' })),
    path: '/dedupe',
  },
  { name: 'sidecar stack, no schema', after: 'bare route', ...sidecarStep('/breakdown/stack') },
  { name: '+ zod request validation', after: 'sidecar stack, no schema', ...sidecarStep('/breakdown/validated') },
  { name: '+ memory claim', after: '+ zod request validation', ...sidecarStep('/breakdown/claimed') },
  { name: '/dedupe (memory)', after: '+ memory claim', ...sidecarStep('/dedupe') },
]

// Rounds run the steps in turn, so a slow minute of a shared machine touches every step; medians are reported.
process.stdout.write(`breakdown: ${SECONDS}s per step, ${ROUNDS} rounds (medians), ${CONNECTIONS} connections, unique itemIds\n`)
const runs = new Map<string, { rps: number[]; cpu: number[] }>(steps.map((step) => [step.name, { rps: [], cpu: [] }]))
for (let round = 1; round <= ROUNDS; round++) {
  for (const step of steps) {
    const run = await measure(step.target, posts(step.path), uniqueEvent, 60_000 * SECONDS)
    if (run.non2xx + run.errors > 0) throw new Error(`${step.name}: ${run.non2xx} non-2xx answers and ${run.errors} errors ${JSON.stringify(run.otherStatuses)}`)
    const seen = runs.get(step.name)!
    seen.rps.push(run.requestsPerSecond)
    if (run.serverCpuUsPerRequest !== undefined) seen.cpu.push(run.serverCpuUsPerRequest)
  }
  process.stdout.write(`round ${round} of ${ROUNDS} done\n`)
}

process.stdout.write('\n| step | req/s | ratio to bare route | server CPU us/request | CPU added to |\n|---|---|---|---|---|\n')
const bare = median(runs.get(steps[0].name)!.rps)
const cpuOf = (name: string) => (runs.get(name)!.cpu.length > 0 ? median(runs.get(name)!.cpu) : undefined)
for (const step of steps) {
  const rps = Math.round(median(runs.get(step.name)!.rps))
  const cpu = cpuOf(step.name)
  const base = step.after === undefined ? undefined : cpuOf(step.after)
  const added = cpu === undefined || base === undefined ? '-' : `${cpu >= base ? '+' : ''}${Math.round((cpu - base) * 10) / 10} (${step.after})`
  process.stdout.write(`| ${step.name} | ${rps} | ${Math.round((rps / bare) * 100) / 100} | ${cpu ?? 'n/a'} | ${added} |\n`)
}
