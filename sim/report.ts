// The run at a glance (a summary a lead can read in a minute) and the whole of it as JSON in sim-results/.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { SimResult } from './simulation.js'

const n = (value: number) => value.toLocaleString('en-US')
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0)
const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL')

function list(record: Record<string, number>, max = 8): string {
  const entries = Object.entries(record)
  const shown = entries.slice(0, max).map(([label, count]) => `${label} ${n(count)}`)
  if (entries.length > max) shown.push(`+${entries.length - max} more`)
  return shown.length > 0 ? shown.join(' · ') : 'none'
}

export function formatSummary(result: SimResult): string {
  const { options, setup, events, human, faults, checks, latency } = result
  const lines: string[] = []
  const push = (label: string, text: string) => lines.push(`  ${label.padEnd(11)}${text}`)
  lines.push('')
  lines.push(
    `Calendar sync simulation · seed ${result.seed} · ${setup.store} · ${setup.sidecars} sidecar(s) · ${setup.workers} workers (${setup.flow} flow) · ${s(setup.activeMs)} active + ${s(setup.drainMs)} to settle`,
  )
  lines.push('')
  const redeliveries = sum(events.graph.redeliveries) + sum(events.cdc.redeliveries)
  push(
    'Events',
    `${n(events.delivered)} delivered: ${n(events.graph.delivered)} Graph notification deliveries (${n(events.graph.published)} sent in bursts), ${n(events.cdc.delivered)} CDC event deliveries (${n(events.cdc.published)} sent); ${n(redeliveries)} redeliveries`,
  )
  const a = human.actions
  push(
    'People',
    `${n(a.create ?? 0)} meetings created, ${n(a.update ?? 0)} edits, ${n(a['concurrent edit (other side)'] ?? 0)} concurrent edits of the other copy, ${n(a.delete ?? 0)} deletes (${n(a['edit racing a delete (other side)'] ?? 0)} just after an edit of the other copy; met an edit not synced yet: ${human.contestedDeletes.mustSurvive} must be undone, ${human.contestedDeletes.maySurvive} may be), ${n(a['touch (unsynced field)'] ?? 0)} unsynced touches; reviewer settled ${human.reviewer.settled} of ${human.reviewer.requests} needs_review (baseline recorded ${human.reviewer.baselineRecorded}, superseded by a later edit ${human.reviewer.baselineSuperseded}, not recorded, every attempt failed ${human.reviewer.baselineNotRecorded})`,
  )
  const downs = (kind: 'sidecar' | 'redis') =>
    faults.timeline
      .filter((e) => e.kind === kind)
      .map((e) => (e.error ? 'FAILED' : s(e.downMs ?? 0)))
      .join(', ')
  const writeFailures = (record: Record<string, number>) =>
    sum(record) === 0 ? '0' : `${n(sum(record))} (${Object.entries(record).map(([k, v]) => `${k.replace('landed_timeout', 'landed then timed out')} ${v}`).join(', ')})`
  push('Faults', `duplicate deliveries ${n(faults.duplicateDeliveries)} · out-of-order deliveries ${n(faults.outOfOrderDeliveries)} · concurrent edits ${n(faults.concurrentEdits)}`)
  push('', `Outlook write failures ${writeFailures(faults.outlookWriteFailures)} · Salesforce write failures ${writeFailures(faults.salesforceWriteFailures)}`)
  const readBacks = Object.entries(result.flow.calendarRetries).filter(([kind]) => kind.includes(' 412 '))
  if (readBacks.length > 0) push('', `updates refused (412), then the target read back: ${readBacks.map(([kind, count]) => `${kind} ${n(count)}`).join(' · ')}`)
  push(
    '',
    `worker crashes between claim and commit ${n(sum(faults.workerCrashes))}${sum(faults.workerCrashes) ? ` (${list(faults.workerCrashes)})` : ''} · worker stalls past the lease before a write ${n(sum(faults.workerStalls))}${sum(faults.workerStalls) ? ` (${list(faults.workerStalls)})` : ''} · sidecar SIGKILL ${faults.sidecarKills}${faults.sidecarKills ? ` (serving again after ${downs('sidecar')})` : ''} · Redis SIGKILL ${faults.redisRestarts}${faults.redisRestarts ? ` (back after ${downs('redis')})` : ''}`,
  )
  lines.push('')

  const c = checks
  push('CHECK', '')
  const check = (name: string, ok: boolean, text: string) => lines.push(`  ${pass(ok)}  ${name.padEnd(17)}${text}`)
  check(
    'converged',
    c.converged.ok,
    `${c.converged.equal} of ${c.converged.meetings - c.converged.deletedOnBoth} live meetings hold the same canonical item on both sides, linked; ${c.converged.deletedOnBoth} deleted on both`,
  )
  for (const problem of c.converged.problems.slice(0, 6)) lines.push(`          meeting ${problem.meeting ?? '-'}: ${problem.problem}`)
  const policy = sum(c.lost.settledByPolicy)
  check(
    'no change lost',
    c.lost.ok,
    `${c.lost.lost.length} lost of ${n(c.lost.humanChanges)} human changes (${n(c.lost.applied)} applied on both sides, ${n(c.lost.superseded)} superseded by a later edit, ${n(c.lost.supersededByDelete)} by a delete, ${policy} settled by the conflict policy${policy ? `: ${list(c.lost.settledByPolicy)}` : ''}, ${c.lost.mergeLimit.length} back to the synced value and read as no change by the merge)`,
  )
  for (const lost of c.lost.lost.slice(0, 6)) lines.push(`          meeting ${lost.meeting}, ${lost.side} ${lost.group} edit at ${s(lost.changedAtMs)}: ${lost.fate}`)
  for (const limit of c.lost.mergeLimit.slice(0, 3)) {
    lines.push(`          (merge limit) meeting ${limit.meeting}, ${limit.side} ${limit.group} set back to the synced value at ${s(limit.changedAtMs)} while the other copy changed it: ${limit.fate}`)
  }
  check(
    'no loop',
    c.loops.ok,
    `max ${c.loops.maxWritesPerChange} sync writes per human change (bound ${c.loops.bound}); ${c.loops.meetingsOverBound.length} meeting(s) over it; ${c.loops.settled ? `settled, then ${c.loops.writesAfterSettled} writes` : 'DID NOT SETTLE'}`,
  )
  check('run health', c.health.ok, c.health.ok ? 'no sidecar crash of its own, no 4xx or contract break, no message given up' : c.health.problems.join('; '))
  const d = c.duplicateWrites
  lines.push(`  ----  duplicate writes ${n(d.duplicates)} of ${n(d.syncWrites)} sync writes changed nothing or made a copy${d.duplicates ? ':' : ''}`)
  for (const [cause, count] of Object.entries(d.byCause)) lines.push(`          ${String(count).padStart(4)}  ${cause}`)
  lines.push('')

  const dec = result.decisions
  push('Decisions', `/dedupe: ${list(dec['/dedupe'])}`)
  push('', `/correlate: ${list(dec['/correlate'], 7)}`)
  push('', `/resolve-conflict: ${list(dec['/resolve-conflict'])}${sum(dec['conflict rules']) ? ` (rules: ${list(dec['conflict rules'])})` : ''}`)
  push('', `/correlate/confirm: ${list(dec['/correlate/confirm'])} · /dedupe/commit: ${list(dec['/dedupe/commit'])} · /dedupe/release: ${list(dec['/dedupe/release'])}`)
  const lat = latency.sidecarMs
  const endpoint = (label: string, short: string) => (lat[label] ? `${short} ${lat[label].p50}/${lat[label].p99}` : undefined)
  const shown = [
    endpoint('POST /dedupe', '/dedupe'),
    endpoint('POST /correlate', '/correlate'),
    endpoint('POST /correlate/confirm', 'confirm'),
    endpoint('POST /dedupe/commit', 'commit'),
    endpoint('POST /resolve-conflict', 'resolve'),
    endpoint('GET /correlate/{system}/{itemId}', 'lookup'),
  ].filter(Boolean)
  push('Latency', `sidecar p50/p99 ms: ${shown.join(' · ')} (${n(result.sidecar.retries)} retried calls during faults)`)
  push('', `human change -> visible on the other side: p50 ${s(latency.syncLagMs.p50)}, p95 ${s(latency.syncLagMs.p95)}, max ${s(latency.syncLagMs.max)} (${latency.syncLagMs.count} measured)`)
  lines.push('')
  const again = [`--seed ${result.seed}`, options.store !== 'redis' ? `--store ${options.store}` : '', options.flow !== 'recommended' ? `--flow ${options.flow}` : ''].filter(Boolean).join(' ')
  lines.push(`  RESULT ${pass(result.ok)}${result.resultsFile ? ` · ${result.resultsFile}` : ''} · same plan again: npm run simulate -- ${again}`)
  lines.push('')
  return lines.join('\n')
}

/** Writes the whole result as JSON; returns the path relative to the working directory. */
export function writeResult(result: SimResult, dir: string): string {
  mkdirSync(dir, { recursive: true })
  const stamp = result.startedAt.replace(/[:.]/g, '-')
  const file = join(dir, `${stamp}.json`)
  result.resultsFile = relative(process.cwd(), file) || file
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)
  return result.resultsFile
}
