// Command-line options of `npm run simulate`: every fault switchable, sizes, store, seed; with a --help text.
import ms from 'ms'

export type StoreMode = 'memory' | 'redis' | 'cluster'
export type WriteMode = 'patch' | 'full'
export const POLICIES = ['three-way-merge', 'last-modified-wins', 'outlook-wins', 'salesforce-wins', 'field-ownership'] as const
export const DELETE_POLICIES = ['update-wins', 'delete-wins', 'review'] as const

export interface FaultOptions {
  /** Probability that a delivered message is delivered once more, later (at-least-once hubs, CDC resubscribes). */
  duplicates: number
  /** Largest extra delay per message, so later messages overtake earlier ones (0: in order). */
  reorderMs: number
  /** Probability that one sync write into Outlook fails (some after landing); also one short outage. */
  outlookWriteFailures: number
  /** The same for Salesforce. */
  salesforceWriteFailures: number
  /** Probability that a worker dies between its /dedupe claim and its /dedupe/commit. */
  workerCrashes: number
  /** Probability that a worker is held up, before its first write, until its claim's lease has lapsed. */
  workerStalls: number
  /** SIGKILLs of a sidecar (restarted on the same port) during the active phase. */
  sidecarKills: number
  /** SIGKILLs of redis-server (AOF, appendfsync always; in a cluster: one master) during the active phase. */
  redisRestarts: number
  /** Probability that a human edit gets a concurrent edit of the same meeting on the other side. */
  concurrentEdits: number
}

export interface SimOptions {
  store: StoreMode
  sidecars: number
  workers: number
  meetings: number
  durationMs: number
  /** Human actions per second during the active phase. */
  editRate: number
  seed: number
  leaseMs: number
  drainTimeoutMs: number
  policy: (typeof POLICIES)[number]
  deletePolicy: (typeof DELETE_POLICIES)[number]
  /** Share of human actions that delete a meeting. */
  deletes: number
  /** The worker flow preset (its steps below can be overridden one by one). */
  flow: FlowName
  /** patch: write only the fields that changed since the baseline; full: the whole item (as mule-examples do). */
  writeMode: WriteMode
  /** Send If-Match (Graph changeKey) / If-Unmodified-Since (Salesforce LastModifiedDate) with updates. */
  conditionalWrites: boolean
  /**
   * What the flow does with its /dedupe claim after /correlate said skip/echo. commit (mule-examples): the version
   * is done, with the fingerprint of the state just read. release: nothing is recorded, so a person's edit that is
   * already in that state is still processed when its own event arrives.
   */
  echoClaim: 'commit' | 'release'
  /**
   * When a resolution writes both sides, which /correlate/confirm carries the merged baseline. each (mule-examples):
   * both, so a failed second write leaves a baseline one side does not hold; last: only the confirm of the last write.
   */
  resolveBaseline: 'each' | 'last'
  /** Read the source item again after waiting out `in_flight` (mule-examples keeps the state read before the wait). */
  rereadAfterWait: boolean
  /** Start a write only while a quarter of the claim's lease is left (both flows; off shows what it prevents). */
  leaseCheck: boolean
  /** Writes per human change above which a meeting counts as looping: bound = loopFactor x changes + 3. */
  loopFactor: number
  faults: FaultOptions
  /** The sidecar checkout to run (its src/server.ts); default this repository. */
  sidecarDir?: string
  /** Where the JSON goes; undefined: not written. */
  resultsDir?: string
  progress: boolean
}

export const ALL_FAULTS: FaultOptions = {
  duplicates: 0.15,
  reorderMs: 800,
  outlookWriteFailures: 0.05,
  salesforceWriteFailures: 0.05,
  workerCrashes: 0.03,
  workerStalls: 0.03,
  sidecarKills: 2,
  redisRestarts: 1,
  concurrentEdits: 0.15,
}

export const NO_FAULTS: FaultOptions = {
  duplicates: 0,
  reorderMs: 0,
  outlookWriteFailures: 0,
  salesforceWriteFailures: 0,
  workerCrashes: 0,
  workerStalls: 0,
  sidecarKills: 0,
  redisRestarts: 0,
  concurrentEdits: 0,
}

export const FLOWS = {
  /** What the sidecar's contract implies a flow should do; a loss left over is the sidecar's. */
  recommended: { writeMode: 'patch', conditionalWrites: true, echoClaim: 'commit', resolveBaseline: 'last', rereadAfterWait: true, leaseCheck: true },
  /**
   * mule-examples' flows as they are: whole-item writes, the merged baseline with the last confirm, a fresh read after
   * waiting out in_flight. Their preconditions cover Salesforce only (the Outlook 365 connector sends no If-Match);
   * the simulation switches preconditions for both calendars at once, so this preset leaves them off.
   */
  'mule-examples': { writeMode: 'full', conditionalWrites: false, echoClaim: 'commit', resolveBaseline: 'last', rereadAfterWait: true, leaseCheck: true },
} as const satisfies Record<string, Pick<SimOptions, 'writeMode' | 'conditionalWrites' | 'echoClaim' | 'resolveBaseline' | 'rereadAfterWait' | 'leaseCheck'>>
export type FlowName = keyof typeof FLOWS

export function defaultOptions(): SimOptions {
  return {
    store: 'redis',
    sidecars: 2,
    workers: 4,
    meetings: 20,
    durationMs: 30_000,
    editRate: 4,
    seed: Math.floor(Math.random() * 1_000_000),
    leaseMs: 3_000,
    drainTimeoutMs: 60_000,
    policy: 'three-way-merge',
    deletePolicy: 'update-wins',
    deletes: 0.03,
    flow: 'recommended',
    ...FLOWS.recommended,
    loopFactor: 3,
    faults: { ...ALL_FAULTS },
    resultsDir: 'sim-results',
    progress: true,
  }
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export const HELP = `npm run simulate -- [options]

A two-way Outlook <-> Salesforce sync built on the sidecar, under faults. Fake calendars emit Graph notification
bursts and Salesforce CDC events; Mule-like workers follow the flows of mule-examples over real HTTP; the sidecars
are child processes on a real Redis (or Redis Cluster). At the end it checks convergence, lost changes, loops and
duplicate writes, prints a summary and writes JSON to sim-results/. Exit code 1 when a check fails. See sim/README.md.

Run
  --store redis|cluster|memory   store behind the sidecars (default redis; cluster = 3 masters on loopback)
  --sidecars N                   sidecar processes (default 2; memory: 1)
  --workers N                    Mule-like workers (default 4)
  --meetings N                   meetings created at the start (default 20)
  --duration 30s                 active phase with human edits (ms or 30s, 2m)
  --edit-rate N                  human actions per second (default 4)
  --seed N                       seed of every random choice (default: random, printed)
  --lease 3s                     /dedupe claim and /correlate reservation lease the workers ask for
  --drain-timeout 60s            how long to wait for the sync to settle after the active phase
  --policy NAME                  /resolve-conflict policy (default three-way-merge)
  --delete-policy NAME           update-wins (default), delete-wins, review
  --deletes P                    share of human actions that delete a meeting (default 0.03)
  --results DIR | --no-results   where the JSON goes (default sim-results)
  --sidecar-dir DIR              run the sidecar from another checkout (its src/server.ts), e.g. a branch
  --quiet                        no progress line

Worker flow
  --flow recommended|mule-examples
                                 recommended (default): the steps below as the sidecar's contract implies;
                                 mule-examples: the example flows as they are (full, no conditions, last, re-read)
  --write-mode patch|full        patch: write the fields changed since the baseline; full: the whole item
  --[no-]conditional-writes      updates with If-Match (Graph) / If-Unmodified-Since (Salesforce)
  --[no-]reread-after-wait       read the source again after waiting out in_flight
  --[no-]lease-check             start a write only while a quarter of the claim's lease is left
  --resolve-baseline each|last   a resolution writing both sides sends the merged baseline with each confirm
                                 or only with the last one, once both writes landed
  --echo-claim commit|release    after skip/echo: /dedupe/commit the claim (as mule-examples) or release it

Faults (all on by default; --no-faults turns all off, then name the ones you want)
  --duplicates P                 redelivery probability per message (default 0.15)
  --reorder MS                   out-of-order: extra random delay per message up to MS (default 800)
  --write-failures P             both calendars: failure probability per sync write (default 0.05), plus one outage each
  --outlook-write-failures P     Outlook only
  --salesforce-write-failures P  Salesforce only
  --worker-crashes P             probability a worker dies between claim and commit (default 0.03)
  --worker-stalls P              probability a worker is held up before its first write until its lease lapsed (default 0.03)
  --sidecar-kills N              SIGKILL + restart of a sidecar (default 2; not with --store memory)
  --redis-restarts N             SIGKILL + restart of redis-server, AOF on (default 1; cluster: one master)
  --concurrent-edits P           probability an edit gets a concurrent edit on the other side (default 0.15)
  A fault flag without a value turns the fault on at its default; --no-<fault> turns it off.
`

type Setter = (options: SimOptions, value: string | undefined, name: string) => void

function probability(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  const p = Number(value)
  if (!Number.isFinite(p) || p < 0 || p > 1) throw new UsageError(`--${name}: must be a probability from 0 to 1, got "${value}"`)
  return p
}

function count(value: string | undefined, name: string, fallback: number, min = 0, max = 10_000): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: must be an integer from ${min} to ${max}, got "${value}"`)
  return n
}

function duration(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback !== undefined) return fallback
    throw new UsageError(`--${name}: needs a value (ms or a duration such as 30s)`)
  }
  const parsed = /^\d+$/.test(value) ? Number(value) : ms(value as ms.StringValue)
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new UsageError(`--${name}: must be milliseconds or a duration such as 30s, got "${value}"`)
  }
  return Math.round(parsed)
}

function choice<T extends string>(value: string | undefined, name: string, allowed: readonly T[]): T {
  if (value === undefined || !(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name}: must be one of ${allowed.join(', ')}${value === undefined ? '' : `, got "${value}"`}`)
  }
  return value as T
}

const required = (value: string | undefined, name: string) => {
  if (value === undefined) throw new UsageError(`--${name}: needs a value`)
  return value
}

const faultSetters: Record<string, Setter> = {
  duplicates: (o, v, n) => (o.faults.duplicates = probability(v, n, ALL_FAULTS.duplicates)),
  reorder: (o, v, n) => (o.faults.reorderMs = duration(v, n, ALL_FAULTS.reorderMs)),
  'write-failures': (o, v, n) => {
    o.faults.outlookWriteFailures = probability(v, n, ALL_FAULTS.outlookWriteFailures)
    o.faults.salesforceWriteFailures = o.faults.outlookWriteFailures
  },
  'outlook-write-failures': (o, v, n) => (o.faults.outlookWriteFailures = probability(v, n, ALL_FAULTS.outlookWriteFailures)),
  'salesforce-write-failures': (o, v, n) => (o.faults.salesforceWriteFailures = probability(v, n, ALL_FAULTS.salesforceWriteFailures)),
  'worker-crashes': (o, v, n) => (o.faults.workerCrashes = probability(v, n, ALL_FAULTS.workerCrashes)),
  'worker-stalls': (o, v, n) => (o.faults.workerStalls = probability(v, n, ALL_FAULTS.workerStalls)),
  'sidecar-kills': (o, v, n) => (o.faults.sidecarKills = count(v, n, ALL_FAULTS.sidecarKills, 0, 100)),
  'redis-restarts': (o, v, n) => (o.faults.redisRestarts = count(v, n, ALL_FAULTS.redisRestarts, 0, 100)),
  'concurrent-edits': (o, v, n) => (o.faults.concurrentEdits = probability(v, n, ALL_FAULTS.concurrentEdits)),
}

const faultOff: Record<string, (o: SimOptions) => void> = {
  duplicates: (o) => (o.faults.duplicates = 0),
  reorder: (o) => (o.faults.reorderMs = 0),
  'write-failures': (o) => {
    o.faults.outlookWriteFailures = 0
    o.faults.salesforceWriteFailures = 0
  },
  'outlook-write-failures': (o) => (o.faults.outlookWriteFailures = 0),
  'salesforce-write-failures': (o) => (o.faults.salesforceWriteFailures = 0),
  'worker-crashes': (o) => (o.faults.workerCrashes = 0),
  'worker-stalls': (o) => (o.faults.workerStalls = 0),
  'sidecar-kills': (o) => (o.faults.sidecarKills = 0),
  'redis-restarts': (o) => (o.faults.redisRestarts = 0),
  'concurrent-edits': (o) => (o.faults.concurrentEdits = 0),
}

const setters: Record<string, Setter> = {
  store: (o, v, n) => (o.store = choice(v, n, ['memory', 'redis', 'cluster'] as const)),
  sidecars: (o, v, n) => (o.sidecars = count(required(v, n), n, 2, 1, 8)),
  workers: (o, v, n) => (o.workers = count(required(v, n), n, 4, 1, 64)),
  meetings: (o, v, n) => (o.meetings = count(required(v, n), n, 20, 1, 5_000)),
  duration: (o, v, n) => (o.durationMs = duration(v, n)),
  'edit-rate': (o, v, n) => {
    const rate = Number(required(v, n))
    if (!Number.isFinite(rate) || rate <= 0 || rate > 1_000) throw new UsageError(`--${n}: must be a number above 0, got "${v}"`)
    o.editRate = rate
  },
  seed: (o, v, n) => (o.seed = count(required(v, n), n, 0, 0, 2 ** 32 - 1)),
  lease: (o, v, n) => {
    o.leaseMs = duration(v, n)
    if (o.leaseMs < 1_000 || o.leaseMs > 3_600_000) throw new UsageError(`--${n}: the sidecar accepts leases from 1s to 1h`)
  },
  'drain-timeout': (o, v, n) => (o.drainTimeoutMs = duration(v, n)),
  policy: (o, v, n) => (o.policy = choice(v, n, POLICIES)),
  'delete-policy': (o, v, n) => (o.deletePolicy = choice(v, n, DELETE_POLICIES)),
  deletes: (o, v, n) => (o.deletes = probability(required(v, n), n, 0)),
  'write-mode': (o, v, n) => (o.writeMode = choice(v, n, ['patch', 'full'] as const)),
  'echo-claim': (o, v, n) => (o.echoClaim = choice(v, n, ['commit', 'release'] as const)),
  'resolve-baseline': (o, v, n) => (o.resolveBaseline = choice(v, n, ['each', 'last'] as const)),
  'loop-factor': (o, v, n) => (o.loopFactor = count(required(v, n), n, 3, 1, 100)),
  results: (o, v, n) => (o.resultsDir = required(v, n)),
  'sidecar-dir': (o, v, n) => (o.sidecarDir = required(v, n)),
}

const flags: Record<string, (o: SimOptions) => void> = {
  quiet: (o) => (o.progress = false),
  'no-results': (o) => (o.resultsDir = undefined),
  'conditional-writes': (o) => (o.conditionalWrites = true),
  'no-conditional-writes': (o) => (o.conditionalWrites = false),
  'reread-after-wait': (o) => (o.rereadAfterWait = true),
  'no-reread-after-wait': (o) => (o.rereadAfterWait = false),
  'lease-check': (o) => (o.leaseCheck = true),
  'no-lease-check': (o) => (o.leaseCheck = false),
  'all-faults': (o) => (o.faults = { ...ALL_FAULTS }),
  'no-faults': (o) => (o.faults = { ...NO_FAULTS }),
}

/** Parses argv (without node and script); throws UsageError with a message naming the flag. */
export function parseOptions(argv: string[]): SimOptions | 'help' {
  const options = defaultOptions()
  const given = new Set<string>()
  const tokens = [...argv]
  // Presets first, so `--no-faults --duplicates` means "only duplicates" whatever the order.
  const presets = tokens.filter((token) => token === '--no-faults' || token === '--all-faults')
  for (const preset of presets) flags[preset.slice(2)](options)
  const flowAt = tokens.findIndex((token) => token === '--flow' || token.startsWith('--flow='))
  if (flowAt >= 0) {
    const name = tokens[flowAt].includes('=') ? tokens[flowAt].split('=')[1] : tokens[flowAt + 1]
    options.flow = choice(name, 'flow', Object.keys(FLOWS) as FlowName[])
    Object.assign(options, FLOWS[options.flow])
  }
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (token === '--help' || token === '-h') return 'help'
    if (!token.startsWith('--')) throw new UsageError(`unexpected argument "${token}" (see --help)`)
    let name = token.slice(2)
    let value: string | undefined
    const eq = name.indexOf('=')
    if (eq >= 0) {
      value = name.slice(eq + 1)
      name = name.slice(0, eq)
    }
    if (name === 'no-faults' || name === 'all-faults') continue
    if (name === 'flow') {
      if (value === undefined) i++
      continue
    }
    if (flags[name] && value === undefined) {
      flags[name](options)
      continue
    }
    if (name.startsWith('no-') && faultOff[name.slice(3)] && value === undefined) {
      faultOff[name.slice(3)](options)
      continue
    }
    const setter = setters[name] ?? faultSetters[name]
    if (!setter) throw new UsageError(`unknown option --${name} (see --help)`)
    if (value === undefined && i + 1 < tokens.length && !tokens[i + 1].startsWith('--')) value = tokens[++i]
    setter(options, value, name)
    given.add(name)
  }
  return finishOptions(options, given)
}

/** Cross-option rules: the memory store lives inside one sidecar, so it cannot be shared or survive a kill. */
export function finishOptions(options: SimOptions, given: ReadonlySet<string> = new Set()): SimOptions {
  if (options.store === 'memory') {
    if (given.has('sidecars') && options.sidecars > 1) {
      throw new UsageError('--sidecars: the memory store lives inside one sidecar; several sidecars need --store redis or cluster')
    }
    if (given.has('sidecar-kills') && options.faults.sidecarKills > 0) {
      throw new UsageError('--sidecar-kills: a SIGKILL wipes the memory store by design; use --store redis or cluster')
    }
    if (given.has('redis-restarts') && options.faults.redisRestarts > 0) {
      throw new UsageError('--redis-restarts: there is no Redis with --store memory')
    }
    options.sidecars = 1
    // A SIGKILL wipes the memory store by design; the Redis faults have no Redis to act on.
    options.faults.sidecarKills = 0
    options.faults.redisRestarts = 0
  }
  if (options.durationMs < 1_000) throw new UsageError('--duration: at least 1s')
  return options
}
