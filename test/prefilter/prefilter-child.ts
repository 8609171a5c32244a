// Test child: one pre-filter on the Redis checkpoint store, configured by a JSON argument, so a test can SIGKILL it.
import { Redis } from 'ioredis'
import pino from 'pino'
import { Registry } from 'prom-client'
import type { PrefilterConfig } from '../../src/config.js'
import { startPrefilter } from '../../src/prefilter/index.js'
import { fastTuning } from './helpers.js'

const options = JSON.parse(process.argv[2] ?? '{}') as { config: PrefilterConfig; redisUrl: string }
const redis = new Redis(options.redisUrl)
const handle = await startPrefilter(options.config, {
  logger: pino({ level: 'silent' }),
  registry: new Registry(),
  redis,
  shutdownGraceMs: 1_000,
  tuning: fastTuning(),
})
// One status line every 50 ms tells the test what the child owns.
const timer = setInterval(() => {
  const open = handle.status().partitions.filter((p) => p.state === 'open').length
  process.stdout.write(`${JSON.stringify({ open, ready: handle.isReady() })}\n`)
}, 50)
process.once('SIGTERM', () => {
  clearInterval(timer)
  void handle.close().then(() => redis.quit())
})
