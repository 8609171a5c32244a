// Opens the ioredis client (single node or Cluster) tuned to fail fast, and maps its failures to StoreUnavailableError.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { ConfigError, type Config } from '../../config.js'
import { StoreUnavailableError } from '../store.js'

export type RedisClient = Redis | Cluster

/** The subset of a pino logger the stores use. */
export interface StoreLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/** No command may wait longer than this; a slow or lost Redis becomes a 503 instead of a hung request. */
export const COMMAND_TIMEOUT_MS = 500
const CONNECT_TIMEOUT_MS = 3_000
const RECONNECT_CAP_MS = 2_000

// Reconnects forever; the cap keeps recovery quick after an outage, the jitter spreads replicas apart.
const reconnectDelay = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 10), RECONNECT_CAP_MS) + Math.floor(Math.random() * 100)

/**
 * Options shared by single-node and cluster connections:
 * - RESP2 (`protocol: 2`): ioredis 6 defaults to RESP3 (HELLO 3), which Azure Cache for Redis tiers and older
 *   servers may refuse; the scripts' replies are plain arrays either way.
 * - no offline queue and no retries per request: while disconnected a command rejects at once rather than
 *   queueing, and a command whose connection dropped is never silently re-sent after reconnect.
 * - no auto-pipelining on a single node: each command is written at once. Deferring commands to gather them costs
 *   more client CPU than the writes it saves: /dedupe on Redis answered 15-53% more requests/s without it at 5, 20
 *   and 100 connections (interleaved A/B on the 2-core machine). A batch is one script call anyway. A cluster keeps
 *   it (below): there a batch's claims go one per key and auto-pipelining gathers them per node.
 */
const nodeOptions = {
  protocol: 2,
  commandTimeout: COMMAND_TIMEOUT_MS,
  connectTimeout: CONNECT_TIMEOUT_MS,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  enableAutoPipelining: false,
  connectionName: 'calendar-sync-sidecar',
} satisfies RedisOptions

/** Credentials and TLS for cluster nodes come from REDIS_URL when it is set beside REDIS_CLUSTER_NODES. */
function clusterCredentials(redisUrl: string | undefined): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  if (!redisUrl) return {}
  const url = new URL(redisUrl)
  return {
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    tls: url.protocol === 'rediss:' ? { servername: url.hostname } : undefined,
  }
}

function parseNode(node: string): { host: string; port: number } {
  const at = node.lastIndexOf(':')
  return { host: node.slice(0, at), port: Number(node.slice(at + 1)) }
}

export function createRedisClient(
  config: Pick<Config, 'store' | 'redisUrl' | 'redisClusterNodes'>,
  logger?: StoreLogger,
): RedisClient {
  let client: RedisClient
  if (config.store === 'redis-cluster') {
    const options: ClusterOptions = {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      clusterRetryStrategy: reconnectDelay,
      slotsRefreshTimeout: 2_000,
      redisOptions: { ...nodeOptions, ...clusterCredentials(config.redisUrl) },
    }
    client = new Cluster(config.redisClusterNodes.map(parseNode), options)
  } else {
    if (!config.redisUrl) throw new ConfigError('REDIS_URL: the redis store needs REDIS_URL (or REDIS_CLUSTER_NODES)')
    client = new Redis(config.redisUrl, { ...nodeOptions, enableOfflineQueue: false, retryStrategy: reconnectDelay })
  }
  watchConnection(client, logger)
  return client
}

/** Logs each outage once (not every reconnect attempt) and its end; also keeps 'error' events from crashing. */
function watchConnection(client: RedisClient, logger?: StoreLogger): void {
  let down = false
  client.on('error', (err: Error) => {
    if (down) return
    down = true
    logger?.error({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'redis unavailable; reconnecting')
  })
  client.on('ready', () => {
    if (down) logger?.info({}, 'redis reachable again')
    down = false
  })
  client.on('reconnecting', () => {
    if (down) return
    down = true
    logger?.warn({}, 'redis connection lost; reconnecting')
  })
}

/** Resolves true once the client is ready, false when `timeoutMs` passes first; never rejects. */
export function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady)
      resolve(false)
    }, timeoutMs)
    const onReady = () => {
      clearTimeout(timer)
      resolve(true)
    }
    client.once('ready', onReady)
  })
}

// Reply errors that mean "Redis cannot serve right now" rather than "the command or script is wrong". MOVED and ASK
// reach us while a cluster's slots move (a master killed and back), NOSCRIPT from a node restarted without its scripts:
// the client learns the new map or loads the script again, so a retry succeeds.
const UNAVAILABLE_REPLIES = /^(LOADING|CLUSTERDOWN|MASTERDOWN|READONLY|BUSY|TRYAGAIN|NOREPLICAS|OOM|NOAUTH|WRONGPASS|MOVED|ASK|NOSCRIPT)\b/

/** Connection, timeout and availability failures become StoreUnavailableError; script bugs stay as they are. */
export function toStoreError(err: unknown): Error {
  if (err instanceof StoreUnavailableError) return err
  const error = err instanceof Error ? err : new Error(String(err))
  if (error.name === 'ReplyError' && !UNAVAILABLE_REPLIES.test(error.message)) return error
  // Our own bugs or bad arguments are not an outage: a 503 would make Mule retry them forever.
  if (error instanceof TypeError || error instanceof RangeError || error instanceof URIError || error instanceof SyntaxError) return error
  return new StoreUnavailableError(`redis: ${error.message}`, { cause: error })
}

/** Runs one store operation, translating its failure. */
export async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (err) {
    throw toStoreError(err)
  }
}

/** Closes politely when connected, at once otherwise; never throws. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  try {
    if (client.status === 'ready') await client.quit()
  } catch {
    // quitting a dying connection may fail; disconnect below ends it anyway
  } finally {
    client.disconnect()
  }
}
