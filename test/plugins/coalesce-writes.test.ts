// Answers held until the event loop's pass ends: written after it, every one of them, each on its own connection.
import Fastify from 'fastify'
import { Agent, request } from 'node:http'
import t from 'tap'
import coalesceWrites from '../../src/plugins/coalesce-writes.js'
import { buildTestApp } from '../support/app.js'

t.test('an answer is written once the pass that handled it ends, not from inside it', async (t) => {
  const app = Fastify()
  await app.register(coalesceWrites)
  let endedInPass: boolean | undefined
  app.get('/', async (_request, reply) => {
    // Immediates run in the order they were set: this one runs before the one that writes the held answers.
    setImmediate(() => {
      endedInPass = reply.raw.writableEnded
    })
    return { ok: true }
  })
  t.teardown(() => app.close())
  const answer = await app.inject({ method: 'GET', url: '/' })
  t.equal(answer.statusCode, 200)
  t.same(answer.json(), { ok: true })
  t.equal(endedInPass, false, 'the answer was still held when the pass ended')
})

t.test('an answer whose write fails is answered by the error handler, and the server still closes', async (t) => {
  const app = Fastify()
  await app.register(coalesceWrites)
  // Node refuses a header value holding a line break when the answer is written, which is after the pass here.
  app.get('/bad-header', async (_request, reply) => {
    reply.header('x-broken', 'a\nb')
    return { ok: true }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/bad-header', agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')))
    req.end()
  })
  t.equal(answer.status, 500, 'the client is answered, not left waiting')
  t.match(JSON.parse(answer.body), { statusCode: 500 })
  await app.close()
  t.pass('the server closed')
})

t.test('every answer reaches its own request, among many at once over shared connections', async (t) => {
  const { app } = await buildTestApp(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const agent = new Agent({ keepAlive: true, maxSockets: 8 })
  t.teardown(() => agent.destroy())
  const post = (path: string, body: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      })
      req.on('error', reject)
      req.end(body)
    })
  // 400 claims on 8 connections, and a bad request every tenth (its own 400 must reach it, not a neighbour)
  const answers = await Promise.all(
    Array.from({ length: 400 }, (_, i) =>
      i % 10 === 9
        ? post('/dedupe', JSON.stringify({ system: 'outlook', itemId: `bad-${i}`, version: 'v1', changeType: 'moved' }))
        : post('/dedupe', JSON.stringify({ system: 'outlook', itemId: `item-${i}`, version: 'v1', modifiedAt: '2026-03-09T10:00:00Z' })),
    ),
  )
  answers.forEach((answer, i) => {
    const body = JSON.parse(answer.body) as { key?: { itemId: string }; errors?: Array<{ path: string }> }
    if (i % 10 === 9) {
      t.equal(answer.status, 400, `request ${i}`)
      t.ok(body.errors?.some((error) => error.path === 'changeType'), `request ${i} is told its changeType is wrong`)
    } else {
      t.equal(answer.status, 200, `request ${i}`)
      t.equal(body.key?.itemId, `item-${i}`, `request ${i} gets its own answer`)
    }
  })
})
