// The standalone entry (`npm run prefilter`): clear failure when not configured, ops endpoints, graceful SIGTERM.
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import t from 'tap'
import { AmqpPeer } from '../support/amqp-peer.js'
import { freePort } from '../support/redis-server.js'
import { ForwardTarget, waitUntil } from './helpers.js'

const ROOT = resolve(import.meta.dirname, '../..')
const MAIN = resolve(ROOT, 'src/prefilter/main.ts')

function run(env: Record<string, string>) {
  // Only what is given: the machine's own REDIS_URL or PREFILTER_* must not leak in.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  return { child, exited, output: () => output }
}

t.test('refuses to start when the pre-filter is not configured', async (t) => {
  const { exited, output } = run({ LOG_LEVEL: 'info' })
  t.equal(await exited, 1)
  t.match(output(), /not configured.*PREFILTER_EVENTHUB_CONNECTION_STRING/)
})

t.test('refuses an incomplete configuration, naming the variable', async (t) => {
  const { exited, output } = run({ PREFILTER_EVENTHUB_CONNECTION_STRING: 'Endpoint=sb://localhost:1;SharedAccessKeyName=a;SharedAccessKey=b', PREFILTER_FORWARD_URL: 'http://127.0.0.1:1/x', PREFILTER_CHECKPOINT_STORE: 'redis' })
  t.equal(await exited, 1)
  t.match(output(), /PREFILTER_CHECKPOINT_STORE/)
})

t.test('serves /healthz, /readyz and /metrics, and stops on SIGTERM', async (t) => {
  const peer = await AmqpPeer.start({ hubs: { graph: 1 } })
  const target = await ForwardTarget.start()
  const port = await freePort()
  const proc = run({
    PORT: String(port),
    LOG_LEVEL: 'warn',
    PREFILTER_EVENTHUB_CONNECTION_STRING: peer.connectionString('graph'),
    PREFILTER_FORWARD_URL: target.url,
    PREFILTER_START_POSITION: 'earliest',
    SHUTDOWN_GRACE_MS: '1000',
  })
  t.teardown(async () => {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL')
    await proc.exited
    await target.stop()
    await peer.stop()
  })
  const get = async (path: string) => {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`)
      return { status: response.status, text: await response.text() }
    } catch {
      return undefined
    }
  }
  const ready = await waitUntil(async () => {
    const answer = await get('/readyz')
    return answer?.status === 200 ? answer : undefined
  }, '/readyz 200', 20_000)
  t.match(JSON.parse(ready.text), { ready: true, checks: { prefilter: true } })
  t.equal((await get('/healthz'))?.status, 200)
  const metrics = await get('/metrics')
  t.match(metrics?.text, /prefilter_ready 1/)
  t.match(metrics?.text, /process_cpu_user_seconds_total/)
  proc.child.kill('SIGTERM')
  t.equal(await proc.exited, 0)
})
