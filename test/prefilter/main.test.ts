// The standalone entry (`npm run prefilter`): clear failure when not configured, ops endpoints, graceful SIGTERM,
// and the namespace + Azure AD configuration end to end over TLS.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t, { type Test } from 'tap'
import { AmqpPeer } from '../support/amqp-peer.js'
import { freePort } from '../support/redis-server.js'
import { localhostCertificate } from '../support/tls-cert.js'
import { change, collection, ForwardTarget, waitUntil } from './helpers.js'

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

/** An AMQP peer and a forward target, each stopped when the test ends (teardowns run last registered first). */
async function peerAndTarget(t: Test, options: Parameters<typeof AmqpPeer.start>[0]) {
  const peer = await AmqpPeer.start(options)
  t.teardown(() => peer.stop())
  const target = await ForwardTarget.start()
  t.teardown(() => target.stop())
  return { peer, target }
}

/** The entry forwarding to `target`, killed when the test ends if it is still running. */
function runBeside(t: Test, target: ForwardTarget, env: Record<string, string>) {
  const proc = run({ LOG_LEVEL: 'warn', PREFILTER_FORWARD_URL: target.url, PREFILTER_START_POSITION: 'earliest', SHUTDOWN_GRACE_MS: '1000', ...env })
  t.teardown(async () => {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL')
    await proc.exited
  })
  return proc
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
  const { peer, target } = await peerAndTarget(t, { hubs: { graph: 1 } })
  const port = await freePort()
  const proc = runBeside(t, target, { PORT: String(port), PREFILTER_EVENTHUB_CONNECTION_STRING: peer.connectionString('graph') })
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

// PREFILTER_EVENTHUB_NAMESPACE without a connection string: the SDK always uses TLS and asks the credential for a token,
// which it hands to the hub as a "jwt" put-token. Azure AD is out of reach here, so DefaultAzureCredential is narrowed
// to its Azure CLI step (AZURE_TOKEN_CREDENTIALS) and `az` is a script that prints a token as the real CLI does.
t.test('reads an event hub by namespace over TLS with a token from DefaultAzureCredential', async (t) => {
  const certificate = await localhostCertificate()
  t.teardown(() => certificate.remove())
  const bin = mkdtempSync(join(tmpdir(), 'css-fake-az-'))
  t.teardown(() => rmSync(bin, { recursive: true, force: true }))
  const calls = join(bin, 'calls.log')
  const token = 'eyJ0eXAiOiJKV1QifQ.test-token-from-fake-az.sig'
  writeFileSync(
    join(bin, 'az'),
    ['#!/bin/sh', `echo "$*" >> '${calls}'`, `echo '{"accessToken":"${token}","expiresOn":"2099-01-01 00:00:00.000000","expires_on":4070908800,"tokenType":"Bearer"}'`, ''].join('\n'),
    { mode: 0o755 },
  )
  const { peer, target } = await peerAndTarget(t, { hubs: { graph: 1 }, tls: { key: certificate.key, cert: certificate.cert } })
  const port = await freePort()
  const proc = runBeside(t, target, {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    NODE_EXTRA_CA_CERTS: certificate.certFile,
    AZURE_TOKEN_CREDENTIALS: 'AzureCliCredential',
    PORT: String(port),
    PREFILTER_EVENTHUB_NAMESPACE: `localhost:${peer.port}`,
    PREFILTER_EVENTHUB_NAME: 'graph',
    PREFILTER_QUIET_MS: '100',
  })

  peer.publish('graph', '0', [collection(change({ itemId: 'AAMkAD-tls-1', etag: 'e1' }))])
  await waitUntil(() => target.received.length > 0, 'a forward', 20_000)
  t.match(target.received[0].body, { kind: 'change', itemId: 'AAMkAD-tls-1', etag: 'e1' }, 'the notification came through the TLS connection')

  const jwts = peer.putTokens.filter((request) => request.type === 'jwt')
  t.ok(jwts.length > 0 && jwts.length === peer.putTokens.length, 'every put-token is a jwt')
  t.ok(jwts.every((request) => request.token === token), "the tokens are the Azure CLI's")
  t.ok(
    jwts.some((request) => request.name === `sb://localhost:${peer.port}/graph/ConsumerGroups/$Default/Partitions/0`),
    'the partition receiver was authorised for its own audience',
  )
  t.match(readFileSync(calls, 'utf8'), /account get-access-token --output json --resource https:\/\/eventhubs\.azure\.net/, 'az was asked for an Event Hubs token')
  proc.child.kill('SIGTERM')
  t.equal(await proc.exited, 0)
})
