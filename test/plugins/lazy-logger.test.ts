// Request loggers are created lazily; every line they write must still carry the correlation id and redaction.
import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/logger.js'
import { loadConfig } from '../../src/config.js'
import { LazyChildLogger } from '../../src/plugins/lazy-logger.js'
import { createStore } from '../../src/stores/index.js'

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, logger: createLogger(level, stream) }
}

const flush = () => new Promise((resolve) => setImmediate(resolve))

t.test('a lazy child writes what parent.child would, and only at enabled levels', async (t) => {
  const { lines, logger } = capture('warn')
  const lazy = new LazyChildLogger(logger, { correlationId: 'c-1' }, {})
  t.equal(lazy.level, 'warn')
  t.equal(lazy.isLevelEnabled('info'), false)
  t.equal(lazy.isLevelEnabled('error'), true)
  t.match(lazy.bindings(), { correlationId: 'c-1' })
  lazy.info('not written')
  lazy.debug({ a: 1 }, 'not written either')
  lazy.warn({ req: { headers: { authorization: 'Bearer secret' } } }, 'written')
  lazy.child({ part: 'x' }).error('from a grandchild')
  await flush()
  t.same(
    lines.map((l) => [l.msg, l.correlationId, l.part]),
    [
      ['written', 'c-1', undefined],
      ['from a grandchild', 'c-1', 'x'],
    ],
  )
  t.same(lines[0].req, { headers: { authorization: '[redacted]' } }, 'the parent redaction applies')
  lazy.level = 'info'
  lazy.info('now written')
  await flush()
  t.equal(lines.at(-1)?.msg, 'now written', 'a level set on the child takes effect')
  t.equal(logger.level, 'warn', 'without touching the parent')
})

t.test('through the app: request lines carry the correlation id at info, and nothing is written at warn', async (t) => {
  for (const level of ['info', 'warn']) {
    const { lines, logger } = capture(level)
    const config = loadConfig({ LOG_LEVEL: level })
    const store = await createStore(config)
    const app = await buildApp(config, { store, logger })
    t.teardown(async () => {
      await app.close()
      await store.close()
    })
    const res = await app.inject({ method: 'POST', url: '/dedupe', headers: { 'x-correlation-id': `lazy-${level}` }, payload: { system: 'outlook', itemId: 'A', version: '1' } })
    t.equal(res.statusCode, 200)
    await flush()
    const mine = lines.filter((l) => l.correlationId === `lazy-${level}`)
    if (level === 'info') t.same(mine.map((l) => l.msg), ['incoming request', 'request completed'], 'info: both request lines, with the id')
    else t.same(mine, [], 'warn: no request lines')
  }
})
