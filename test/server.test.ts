// The real entry point as a new user runs it: starts on the memory store, serves /docs and /dedupe, stops on SIGTERM.
import { spawn } from 'node:child_process'
import t from 'tap'
import { freePort } from './support/redis-server.js'

async function waitFor(url: string, deadlineMs: number): Promise<Response> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    try {
      return await fetch(url)
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

t.test('src/server.ts serves the API on the memory store with nothing else set up', async (t) => {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL: '', STORE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let logs = ''
  child.stdout.on('data', (d) => (logs += d))
  child.stderr.on('data', (d) => (logs += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })

  const base = `http://127.0.0.1:${port}`
  t.equal((await waitFor(base + '/healthz', 20_000)).status, 200)
  t.equal((await fetch(base + '/readyz')).status, 200)
  const docs = await fetch(base + '/docs/')
  t.equal(docs.status, 200)
  t.match(await docs.text(), /swagger/i)
  const spec = (await (await fetch(base + '/openapi.json')).json()) as { openapi: string }
  t.equal(spec.openapi, '3.0.3')
  const res = await fetch(base + '/dedupe', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-correlation-id': 'server-test-1' },
    body: JSON.stringify({ system: 'outlook', itemId: 'A', version: '1' }),
  })
  t.equal(res.status, 200)
  t.equal(((await res.json()) as { decision: string }).decision, 'process')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'exits cleanly on SIGTERM')
  const lines = logs.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  t.ok(lines.some((l) => l.correlationId === 'server-test-1'), 'log lines carry the correlation id')
  t.ok(lines.some((l) => /ready/.test(l.msg ?? '')), 'logs that it is ready')
})

/** Runs the entry expecting it to refuse to start: its exit code and what it wrote; killed after 30 s if it runs. */
async function refusal(env: Record<string, string>, nodeArgs: string[] = []): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/server.ts'], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  clearTimeout(timer)
  return { code, output }
}

t.test('refuses to start open on a non-loopback address', async (t) => {
  const { code, output } = await refusal({ HOST: '0.0.0.0', PORT: '0', API_TOKENS: '', ALLOW_UNAUTHENTICATED: '' })
  t.equal(code, 1)
  t.match(output, /API_TOKENS/)
})

t.test('exits at once with the reason when require() of ES modules is off (src/require-node.ts)', async (t) => {
  // the memory store on port 0: were the check missing, the server would start instead of exiting
  const { code, output } = await refusal({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL: '', STORE: '' }, ['--no-experimental-require-module'])
  t.equal(code, 1, output)
  t.match(output, /needs Node\.js 20\.19 or later on 20\.x, or 22\.12 or later.*turned off/)
  t.notMatch(output, /ERR_REQUIRE_ESM|listening/)
})

t.test('with the pre-filter configured it runs inside the sidecar: forwards, and readiness and metrics cover it', async (t) => {
  const { AmqpPeer } = await import('./support/amqp-peer.js')
  const { ForwardTarget, change, collection } = await import('./prefilter/helpers.js')
  const peer = await AmqpPeer.start({ hub: 'graph', partitions: 2 })
  const target = await ForwardTarget.start()
  t.teardown(async () => {
    await target.stop()
    await peer.stop()
  })
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: new URL('..', import.meta.url),
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      PREFILTER_EVENTHUB_CONNECTION_STRING: peer.connectionString('graph'),
      PREFILTER_FORWARD_URL: target.url,
      PREFILTER_START_POSITION: 'earliest',
      PREFILTER_QUIET_MS: '200',
      PREFILTER_MAX_WAIT_MS: '1000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const base = `http://127.0.0.1:${port}`
  await waitFor(base + '/healthz', 20_000)
  peer.publish('graph', '0', [collection(change({ itemId: 'E1', etag: 'k1' }), change({ itemId: 'E1', etag: 'k2' }))])
  peer.publish('graph', '0', [collection(change({ itemId: 'E1', etag: 'k3' }))])
  const deadline = Date.now() + 20_000
  while (target.changesFor('E1').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  const forwarded = target.changesFor('E1')
  t.equal(forwarded.length, 1, 'one message for the burst')
  t.equal(forwarded[0].etag, 'k3')
  t.equal(forwarded[0].collapsed, 3)
  const ready = (await (await fetch(base + '/readyz')).json()) as { checks: Record<string, boolean> }
  t.equal(ready.checks.prefilter, true, 'readiness covers the pre-filter')
  t.match(await (await fetch(base + '/metrics')).text(), /prefilter_/, 'metrics cover the pre-filter')
  child.kill('SIGTERM')
  t.equal(await exited, 0)
})
