// Requests Node's HTTP parser refuses before any route sees them, over a real socket: problem details, never a crash.
import { execFile } from 'node:child_process'
import { connect } from 'node:net'
import { promisify } from 'node:util'
import t from 'tap'
import { buildTestApp } from '../support/app.js'

const run = promisify(execFile)

/**
 * Writes raw bytes and reads what comes back until the server closes the connection, or until `enough` says the
 * text read so far is all the test waits for. `end`: half-close after writing (the client sends nothing more).
 */
function readRaw(port: number, raw: string, options: { end?: boolean; enough?: (text: string) => boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => {
      text += chunk
      if (options.enough?.(text)) socket.end()
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(text))
    if (options.end) socket.end(raw)
    else socket.write(raw)
  })
}

/** Writes raw bytes, half-closes, and reads the one answer until the server closes the connection. */
async function exchange(port: number, raw: string): Promise<{ status: number; headers: string; body: string }> {
  const text = await readRaw(port, raw, { end: true })
  const split = text.indexOf('\r\n\r\n')
  return { status: Number(text.slice(9, 12)), headers: text.slice(0, split), body: text.slice(split + 4) }
}

/** An app whose request timeouts are short enough for a test (server.ts: 30 s, checked every 30 s), listening. */
async function appWithShortTimeouts(t: Parameters<typeof buildTestApp>[0], env: Record<string, string> = {}): Promise<number> {
  const { app } = await buildTestApp(t, env)
  // Node reads these when the server starts listening. The checking interval is a createServer option Node keeps on
  // the server; its types do not declare the property.
  ;(app.server as typeof app.server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 100
  app.server.headersTimeout = 300
  app.server.requestTimeout = 300
  await app.listen({ host: '127.0.0.1', port: 0 })
  return (app.server.address() as { port: number }).port
}

t.test('the HTTP parser refuses: oversized request line or header, bytes that are not HTTP; each gets problem details', async (t) => {
  const { app } = await buildTestApp(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }

  const long = await exchange(port, `GET /dedupe/outlook/${'x'.repeat(60_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`)
  t.equal(long.status, 400, 'a request line past the parser limit is a 400 (Mule types it), not an untyped 431')
  t.match(long.headers, /content-type: application\/json/i)
  const problem = JSON.parse(long.body)
  t.match(problem, { status: 400, code: 'invalid_input', retryable: false, type: 'urn:calendar-sync-sidecar:problem:invalid-input' })
  t.same(problem.errors.map((error: { path: string }) => error.path), ['url'])
  t.match(problem.detail, /1024 characters/)

  const header = await exchange(port, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nCookie: ${'c'.repeat(60_000)}\r\n\r\n`)
  t.equal(header.status, 400)
  t.same(JSON.parse(header.body).errors.map((error: { path: string }) => error.path), ['headers'], 'a large header is named as such, not the url')

  const garbage = await exchange(port, 'HELLO THERE\r\n\r\n')
  t.equal(garbage.status, 400)
  t.match(JSON.parse(garbage.body), { code: 'invalid_input', detail: /not valid HTTP/ })

  // A valid request, then bytes that are not HTTP on the same keep-alive connection, in one write: the refusal must
  // not be read as the answer to the first request (a 400 the flow would not retry, for a claim that was granted).
  const body = JSON.stringify({ system: 'outlook', itemId: 'pipelined', version: '1' })
  const pipelined = await exchange(port, `POST /dedupe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}HELLO THERE\r\n\r\n`)
  t.not(pipelined.status, 400, `the first request gets no 400: ${JSON.stringify(pipelined.headers.slice(0, 40))}`)

  // A broken chunk in the body of the connection's only request: that request gets the refusal as its answer.
  const chunked = await exchange(port, `POST /dedupe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n`)
  t.equal(chunked.status, 400, 'a broken chunk of the request being read is answered')
  t.match(JSON.parse(chunked.body), { code: 'invalid_input' })

  const health = await fetch(`http://127.0.0.1:${port}/healthz`)
  t.equal(health.status, 200, 'the server goes on serving')
})

t.test('a request that does not arrive in time is a 408 with problem details', async (t) => {
  const port = await appWithShortTimeouts(t)
  // the headers promise 40 bytes of body; 1 arrives, then nothing
  const answer = await readRaw(port, 'POST /dedupe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{')
  t.equal(Number(answer.slice(9, 12)), 408, 'answered 408, which the Mule flow retries')
  t.match(answer, /connection: close/i)
  t.match(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { status: 408, code: 'request_timeout', retryable: true })
})

t.test('a body over the limit gets its 413 over a real socket while the client is still sending it', async (t) => {
  const { app } = await buildTestApp(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  // The client runs in a process of its own, as a Mule worker does: the server answers long before it has written
  // several MiB. Closing the connection then failed the client's write (EPIPE) before it read the answer.
  const client = `
    const out = []
    for (const [path, size] of [['/dedupe', 5 * 1024 * 1024], ['/dedupe/batch', 12 * 1024 * 1024]]) {
      for (let i = 0; i < 3; i++) {
        const body = JSON.stringify({ system: 'outlook', itemId: 'big', version: '1', pad: 'a'.repeat(size) })
        try {
          const res = await fetch('http://127.0.0.1:${port}' + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          out.push({ path, status: res.status, code: (await res.json()).code })
        } catch (error) {
          out.push({ path, error: String(error.cause?.code ?? error.message) })
        }
      }
    }
    process.stdout.write(JSON.stringify(out))
  `
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', client], { timeout: 60_000 })
  const results = JSON.parse(stdout) as Array<{ path: string; status?: number; code?: string; error?: string }>
  t.equal(results.length, 6)
  for (const result of results) t.same(result, { path: result.path, status: 413, code: 'payload_too_large' }, `${result.path}: ${JSON.stringify(result)}`)
  const after = await fetch(`http://127.0.0.1:${port}/dedupe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ system: 'outlook', itemId: 'after-big', version: '1' }),
  })
  t.equal(after.status, 200, 'the server goes on serving')
})

t.test('after a 413 the rest of the body is read and dropped: the next request on the connection is answered, a stalled body gets no second answer', async (t) => {
  const port = await appWithShortTimeouts(t)
  const over = 2 * 1024 * 1024
  const head = (length: number) => `POST /dedupe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`
  const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]))

  // pipelined: the whole oversized body, then a small request on the same connection
  const small = JSON.stringify({ system: 'outlook', itemId: 'after-drain', version: '1' })
  const pipelined = await readRaw(port, head(over) + 'a'.repeat(over) + head(Buffer.byteLength(small)) + small, {
    enough: (text) => statuses(text).length === 2 && text.endsWith('}'),
  })
  t.same(statuses(pipelined), [413, 200], 'the 413, then the next request\'s own answer')
  t.match(pipelined, /"decision":"process"/)

  // a body that stops half way: the 413, then the connection closes at the request timeout with nothing more
  const stalled = await readRaw(port, head(over) + 'a'.repeat(over / 2))
  t.same(statuses(stalled), [413], 'one answer: no 408 after the 413 of the same request')
})

t.test('Expect: 100-continue is answered once the route is known: 100 for a body within its limit, the 413 at once for one over it', async (t) => {
  const { app } = await buildTestApp(t, { BODY_LIMIT_BYTES: '2048' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  // A client that waits for 100 Continue before it sends the body, as curl and Java clients do when asked to, and
  // reads until the server closes the connection or its last answer is in.
  const ask = (path: string, body: string) =>
    new Promise<{ text: string; sentBody: boolean }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      let text = ''
      let sentBody = false
      socket.setEncoding('utf8')
      socket.on('data', (chunk) => {
        text += chunk
        if (!sentBody && text.startsWith('HTTP/1.1 100 ')) {
          sentBody = true
          socket.write(body)
        }
        if (/\r\n\r\n\{.*\}$/s.test(text)) socket.end()
      })
      socket.on('error', reject)
      socket.on('close', () => resolve({ text, sentBody }))
      socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`)
    })
  const event = (itemId: string, pad: number) => ({ system: 'outlook', itemId, version: '1', meta: { pad: 'a'.repeat(pad) } })

  const fits = await ask('/dedupe', JSON.stringify(event('fits', 100)))
  t.ok(fits.sentBody, 'a body within the limit is asked for')
  t.match(fits.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /)
  t.match(fits.text, /"decision":"process"/)

  const over = await ask('/dedupe', JSON.stringify(event('over', 4000)))
  t.notOk(over.sentBody, 'no 100 Continue: the client never sends a body the route refuses')
  t.match(over.text, /^HTTP\/1\.1 413 /)
  t.match(JSON.parse(over.text.slice(over.text.indexOf('\r\n\r\n') + 4)), { status: 413, code: 'payload_too_large' })

  // A client that sends its body without waiting for 100 (RFC 9110 lets it), then a request on the same connection:
  // the body is read and dropped, so the client's write does not fail before it reads the 413, and the next
  // request gets its own answer. (Node closes such a connection by default, failing the write: EPIPE.)
  const big = JSON.stringify(event('eager', 4 * 1024 * 1024))
  const small = JSON.stringify(event('after-eager', 10))
  const head = (length: number, expect: boolean) =>
    `POST /dedupe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${expect ? 'Expect: 100-continue\r\n' : ''}Content-Length: ${length}\r\n\r\n`
  const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]))
  const eager = await readRaw(port, head(big.length, true) + big + head(small.length, false) + small, {
    enough: (text) => statuses(text).length === 2 && text.endsWith('}'),
  })
  t.same(statuses(eager), [413, 200], 'the 413 without 100, then the next request\'s own answer')

  // the batch route has a limit of its own (BATCH_BODY_LIMIT_BYTES): the same size is within it
  const batch = await ask('/dedupe/batch', JSON.stringify({ events: [event('in-batch', 4000)] }))
  t.ok(batch.sentBody, 'the route\'s own limit decides')
  t.match(batch.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /)
})

t.test('Expect: 100-continue answered early for another reason (a 401): one answer, and the connection closes', async (t) => {
  const port = await appWithShortTimeouts(t, { API_TOKENS: 'a-token-of-sixteen-chars-or-more' })
  const body = JSON.stringify({ system: 'outlook', itemId: 'no-token', version: '1' })
  // the client waits for 100 Continue and sends nothing; the server must not wait for the body (a 408 would follow)
  const answer = await readRaw(port, `POST /dedupe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`)
  t.same([...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1])), [401])
  t.match(answer, /connection: close/i)
})
