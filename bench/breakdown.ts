// `npm run bench:breakdown`: where /dedupe's cost goes on the memory store. Each step runs in a fresh process under
// the same load as `npm run bench`; the table shows requests/s against the bare route and CPU per request.
//   bare route            the baseline of `npm run bench`
//   bare route + N us     the same with a busy loop: what a server slower than the load generator pays beyond N
//   sidecar stack         the sidecar's app (logger, correlation id, metrics, body guard, overload check), no schema
//   + zod validation      the /dedupe request and response schemas
//   + memory claim        readDedupeRequest and the memory store's claim
//   /dedupe               the real route: reasons, claim token, last state, decision metrics
import { CONNECTIONS, SECONDS, measure, serverTarget, uniqueEvent } from './harness.js'

const SPIN_US = Number(process.env.BREAKDOWN_SPIN_US ?? 10)
const memory = async () => ({ STORE: 'memory', MEMORY_MAX_ITEMS: '2000000' })
const bareRoute = (env: Record<string, string>) => async () => env
const sidecarStep = (path: string) => ({ target: serverTarget(path, 'bench/breakdown-server.mjs', memory), path })
// `after`: the step whose CPU this one adds to
const steps = [
  { name: 'bare route', target: serverTarget('bare', 'bench/baseline-server.ts', bareRoute({})), path: '/dedupe' },
  { name: `bare route + ${SPIN_US} us busy loop`, after: 'bare route', target: serverTarget('spin', 'bench/baseline-server.ts', bareRoute({ BASELINE_SPIN_US: String(SPIN_US) })), path: '/dedupe' },
  { name: 'sidecar stack, no schema', after: 'bare route', ...sidecarStep('/breakdown/stack') },
  { name: '+ zod validation', after: 'sidecar stack, no schema', ...sidecarStep('/breakdown/validated') },
  { name: '+ memory claim', after: '+ zod validation', ...sidecarStep('/breakdown/claimed') },
  { name: '/dedupe (memory)', after: '+ memory claim', ...sidecarStep('/dedupe') },
]

process.stdout.write(`breakdown: ${SECONDS}s per step, ${CONNECTIONS} connections, unique itemIds\n\n`)
process.stdout.write('| step | req/s | ratio to bare route | server CPU us/request | CPU added to |\n|---|---|---|---|---|\n')
const cpuOf = new Map<string, number | undefined>()
let bare: number | undefined
for (const step of steps) {
  const run = await measure(step.target, step.path, uniqueEvent, 60_000 * SECONDS)
  bare ??= run.requestsPerSecond
  const cpu = run.serverCpuUsPerRequest
  cpuOf.set(step.name, cpu)
  const base = step.after === undefined ? undefined : cpuOf.get(step.after)
  const added = cpu === undefined || base === undefined ? '-' : `${cpu >= base ? '+' : ''}${Math.round((cpu - base) * 10) / 10} (${step.after})`
  process.stdout.write(`| ${step.name} | ${run.requestsPerSecond} | ${Math.round((run.requestsPerSecond / bare) * 100) / 100} | ${cpu ?? 'n/a'} | ${added} |\n`)
  if (run.non2xx + run.errors > 0) process.stdout.write(`WARNING: ${run.non2xx} non-2xx answers and ${run.errors} errors in this step: ${JSON.stringify(run.otherStatuses)}\n`)
}
