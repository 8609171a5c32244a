// Configuration: one zod schema over the environment, parsed once at start and passed down.
import ms from 'ms'
import { z } from 'zod'

const duration = (name: string, fallback: string) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const text = (raw ?? '').trim() === '' ? fallback : (raw as string).trim()
      const value = /^\d+$/.test(text) ? Number(text) : ms(text as ms.StringValue)
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        ctx.addIssue({ code: 'custom', message: `${name} must be milliseconds or a duration like "10m", got "${text}"` })
        return z.NEVER
      }
      return Math.round(value)
    })

const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback
      const value = Number(raw)
      if (!Number.isInteger(value) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}, got "${raw}"` })
        return z.NEVER
      }
      return value
    })

const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback
      const text = raw.trim().toLowerCase()
      if (['true', '1', 'yes'].includes(text)) return true
      if (['false', '0', 'no'].includes(text)) return false
      ctx.addIssue({ code: 'custom', message: `must be true or false (1 or 0, yes or no are taken too), got "${raw}"` })
      return z.NEVER
    })

const list = z
  .string()
  .optional()
  .transform((raw) =>
    (raw ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  )

const optionalText = z
  .string()
  .optional()
  .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw.trim()))

/** The memory store's bound when MEMORY_MAX_ITEMS is not set. */
export const DEFAULT_MEMORY_MAX_ITEMS = 100_000

const envSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: integer(8080, 0, 65535),
  API_TOKENS: list,
  ALLOW_UNAUTHENTICATED: bool(false),
  BODY_LIMIT_BYTES: integer(1024 * 1024, 1024),
  BATCH_BODY_LIMIT_BYTES: integer(8 * 1024 * 1024, 1024),
  STORE: z.enum(['memory', 'redis']).optional(),
  REDIS_URL: optionalText,
  REDIS_CLUSTER_NODES: list,
  MEMORY_MAX_ITEMS: integer(DEFAULT_MEMORY_MAX_ITEMS, 1),
  DEDUPE_TTL: duration('DEDUPE_TTL', '7d'),
  DEFAULT_LEASE_MS: duration('DEFAULT_LEASE_MS', '60s'),
  ECHO_WINDOW: duration('ECHO_WINDOW', '10m'),
  SALESFORCE_INTEGRATION_USER_IDS: list,
  SALESFORCE_CLIENT_ID: optionalText,
  STORE_OUTAGE_POLICY: z.enum(['fail-closed', 'fail-open']).default('fail-closed'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PREFILTER_EVENTHUB_CONNECTION_STRING: optionalText,
  PREFILTER_EVENTHUB_NAMESPACE: optionalText,
  PREFILTER_EVENTHUB_NAME: optionalText,
  PREFILTER_CONSUMER_GROUP: z.string().default('$Default'),
  PREFILTER_CLIENT_STATES: list,
  PREFILTER_QUIET_MS: duration('PREFILTER_QUIET_MS', '2000'),
  PREFILTER_MAX_WAIT_MS: duration('PREFILTER_MAX_WAIT_MS', '10000'),
  PREFILTER_FORWARD_URL: optionalText,
  PREFILTER_FORWARD_TOKEN: optionalText,
  PREFILTER_OUTPUT_EVENTHUB_CONNECTION_STRING: optionalText,
  PREFILTER_OUTPUT_EVENTHUB_NAME: optionalText,
  PREFILTER_CHECKPOINT_STORE: z.enum(['memory', 'redis', 'blob']).default('memory'),
  PREFILTER_BLOB_CONNECTION_STRING: optionalText,
  PREFILTER_BLOB_CONTAINER: optionalText,
  PREFILTER_START_POSITION: z.enum(['latest', 'earliest']).default('latest'),
  PREFILTER_UNREADY_AFTER_MS: duration('PREFILTER_UNREADY_AFTER_MS', '30000'),
  SHUTDOWN_GRACE_MS: duration('SHUTDOWN_GRACE_MS', '10000'),
  MAX_EVENT_LOOP_DELAY_MS: duration('MAX_EVENT_LOOP_DELAY_MS', '1000'),
})

/** How long past SHUTDOWN_GRACE_MS a shutdown that has not finished is cut short (the sidecar and the standalone pre-filter). */
export const SHUTDOWN_MARGIN_MS = 5_000

export type StoreKind = 'memory' | 'redis' | 'redis-cluster'

export interface Config {
  host: string
  port: number
  apiTokens: string[]
  allowUnauthenticated: boolean
  bodyLimitBytes: number
  batchBodyLimitBytes: number
  store: StoreKind
  redisUrl?: string
  redisClusterNodes: string[]
  memoryMaxItems: number
  dedupeTtlMs: number
  defaultLeaseMs: number
  echoWindowMs: number
  salesforceIntegrationUserIds: string[]
  salesforceClientId?: string
  storeOutagePolicy: 'fail-closed' | 'fail-open'
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  shutdownGraceMs: number
  /** event-loop delay above which business routes answer 429 (0: never) */
  maxEventLoopDelayMs: number
  prefilter?: PrefilterConfig
}

export interface PrefilterConfig {
  connectionString?: string
  namespace?: string
  eventHubName?: string
  consumerGroup: string
  clientStates: string[]
  quietMs: number
  maxWaitMs: number
  forwardUrl?: string
  forwardToken?: string
  outputConnectionString?: string
  outputEventHubName?: string
  checkpointStore: 'memory' | 'redis' | 'blob'
  blobConnectionString?: string
  blobContainer?: string
  startPosition: 'latest' | 'earliest'
  unreadyAfterMs: number
}

/** Whether `text` parses as a URL with one of these protocols ("redis:", ...). */
function hasProtocol(text: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(text).protocol)
  } catch {
    return false
  }
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export const LEASE_MIN_MS = 1_000
export const LEASE_MAX_MS = 3_600_000

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)

/**
 * Reads the environment once; throws ConfigError naming every bad variable. `api: false` is for a process that serves
 * no business route (the standalone pre-filter): it may listen on any address without API_TOKENS.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, options: { api?: boolean } = {}): Config {
  // An empty variable counts as unset, as shells and container specs commonly write it.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''))
  const parsed = envSchema.safeParse(set)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`)
  }
  const e = parsed.data
  const problems: string[] = []

  let store: StoreKind = 'memory'
  if (e.REDIS_CLUSTER_NODES.length > 0) store = 'redis-cluster'
  else if (e.STORE === 'redis' || (e.STORE === undefined && e.REDIS_URL)) store = 'redis'
  if (e.STORE === 'memory' && (e.REDIS_URL || e.REDIS_CLUSTER_NODES.length > 0)) {
    problems.push('STORE: is "memory" but REDIS_URL or REDIS_CLUSTER_NODES is set; choose one store')
  }
  if (store === 'redis' && !e.REDIS_URL) problems.push('REDIS_URL: STORE is "redis" but REDIS_URL is not set')
  if (e.REDIS_URL && !hasProtocol(e.REDIS_URL, ['redis:', 'rediss:'])) {
    problems.push('REDIS_URL: must be a URL such as redis://host:6379 or rediss://user:password@host:6380')
  }
  for (const node of e.REDIS_CLUSTER_NODES) {
    if (!/^[^\s:]+:\d+$/.test(node)) problems.push(`REDIS_CLUSTER_NODES: "${node}" is not host:port`)
  }
  if (e.DEFAULT_LEASE_MS < LEASE_MIN_MS || e.DEFAULT_LEASE_MS > LEASE_MAX_MS) {
    problems.push(`DEFAULT_LEASE_MS: must be from ${LEASE_MIN_MS} to ${LEASE_MAX_MS} ms`)
  }
  if (e.DEDUPE_TTL < 60_000) problems.push('DEDUPE_TTL: must be at least 1 minute')
  if (options.api !== false && e.API_TOKENS.length === 0 && !e.ALLOW_UNAUTHENTICATED && !isLoopback(e.HOST)) {
    problems.push(
      `API_TOKENS: HOST ${e.HOST} is not a loopback address and no token is set; set API_TOKENS or ALLOW_UNAUTHENTICATED=true`,
    )
  }

  let prefilter: PrefilterConfig | undefined
  if (e.PREFILTER_EVENTHUB_CONNECTION_STRING || e.PREFILTER_EVENTHUB_NAMESPACE) {
    if (e.PREFILTER_FORWARD_URL && !hasProtocol(e.PREFILTER_FORWARD_URL, ['http:', 'https:'])) {
      problems.push('PREFILTER_FORWARD_URL: must be an http:// or https:// URL')
    }
    if (!e.PREFILTER_FORWARD_URL && !e.PREFILTER_OUTPUT_EVENTHUB_CONNECTION_STRING) {
      problems.push('PREFILTER_FORWARD_URL: the pre-filter needs PREFILTER_FORWARD_URL or PREFILTER_OUTPUT_EVENTHUB_CONNECTION_STRING')
    }
    if (e.PREFILTER_CHECKPOINT_STORE === 'redis' && store === 'memory') {
      problems.push('PREFILTER_CHECKPOINT_STORE: "redis" needs REDIS_URL or REDIS_CLUSTER_NODES')
    }
    if (e.PREFILTER_CHECKPOINT_STORE === 'blob' && (!e.PREFILTER_BLOB_CONNECTION_STRING || !e.PREFILTER_BLOB_CONTAINER)) {
      problems.push('PREFILTER_BLOB_CONNECTION_STRING: "blob" checkpoints need PREFILTER_BLOB_CONNECTION_STRING and PREFILTER_BLOB_CONTAINER')
    }
    if (e.PREFILTER_EVENTHUB_NAMESPACE && !e.PREFILTER_EVENTHUB_CONNECTION_STRING && !e.PREFILTER_EVENTHUB_NAME) {
      problems.push('PREFILTER_EVENTHUB_NAME: needed with PREFILTER_EVENTHUB_NAMESPACE')
    }
    prefilter = {
      connectionString: e.PREFILTER_EVENTHUB_CONNECTION_STRING,
      namespace: e.PREFILTER_EVENTHUB_NAMESPACE,
      eventHubName: e.PREFILTER_EVENTHUB_NAME,
      consumerGroup: e.PREFILTER_CONSUMER_GROUP,
      clientStates: e.PREFILTER_CLIENT_STATES,
      quietMs: e.PREFILTER_QUIET_MS,
      maxWaitMs: e.PREFILTER_MAX_WAIT_MS,
      forwardUrl: e.PREFILTER_FORWARD_URL,
      forwardToken: e.PREFILTER_FORWARD_TOKEN,
      outputConnectionString: e.PREFILTER_OUTPUT_EVENTHUB_CONNECTION_STRING,
      outputEventHubName: e.PREFILTER_OUTPUT_EVENTHUB_NAME,
      checkpointStore: e.PREFILTER_CHECKPOINT_STORE,
      blobConnectionString: e.PREFILTER_BLOB_CONNECTION_STRING,
      blobContainer: e.PREFILTER_BLOB_CONTAINER,
      startPosition: e.PREFILTER_START_POSITION,
      unreadyAfterMs: e.PREFILTER_UNREADY_AFTER_MS,
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)

  return {
    host: e.HOST,
    port: e.PORT,
    apiTokens: e.API_TOKENS,
    allowUnauthenticated: e.ALLOW_UNAUTHENTICATED,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    batchBodyLimitBytes: e.BATCH_BODY_LIMIT_BYTES,
    store,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES,
    memoryMaxItems: e.MEMORY_MAX_ITEMS,
    dedupeTtlMs: e.DEDUPE_TTL,
    defaultLeaseMs: e.DEFAULT_LEASE_MS,
    echoWindowMs: e.ECHO_WINDOW,
    salesforceIntegrationUserIds: e.SALESFORCE_INTEGRATION_USER_IDS,
    salesforceClientId: e.SALESFORCE_CLIENT_ID,
    storeOutagePolicy: e.STORE_OUTAGE_POLICY,
    logLevel: e.LOG_LEVEL,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS,
    prefilter,
  }
}
