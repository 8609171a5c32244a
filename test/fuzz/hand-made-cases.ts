// Hand-made nasty inputs: every field given every wrong type, odd numbers and dates, unicode ids, prototype keys,
// sizes, native payloads gone wrong, and regressions for the bugs the fuzzer found.
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { FUZZ_ROUTES, routeName, seedsOf, send } from './fuzz-routes.js'
import { applyMutation, ODD_DATES, OVER_LIMIT_STRING, pathsOf, RawJson, toJsonText } from './mutations.js'
import { checkBlame, FuzzFailure, type SentRequest } from './response-checks.js'

type Json = Record<string, any>

const WRONG_VALUES: Array<[string, unknown]> = [
  ['42', 42],
  ['-0', new RawJson('-0')],
  ['1e309', new RawJson('1e309')],
  ['true', true],
  ['null', null],
  ['[]', []],
  ['{}', {}],
  ['""', ''],
  ['2000 chars', 'x'.repeat(2000)],
  ['control+bidi+emoji', '\u0000\u001f\u202e🙂'],
]

/** A request through the invariants (no 5xx, problem details), then the answer for specific assertions. */
async function call(app: FastifyInstance, method: 'POST' | 'GET' | 'DELETE', url: string, payload?: unknown, contentType = 'application/json') {
  const request: SentRequest = { method, url, headers: payload === undefined ? {} : { 'content-type': contentType } }
  if (payload !== undefined) request.payload = typeof payload === 'string' ? payload : toJsonText(payload)
  const { response, body } = await send(app, request, { statuses: [200, 400, 404, 413, 415], fieldErrorsOn400: true })
  return { status: response.statusCode, body: (body ?? {}) as Json }
}

/** Raw inject with no invariant checks: for the known issues, whose answers break them. */
async function raw(app: FastifyInstance, method: 'POST' | 'GET' | 'DELETE', url: string, payload?: string) {
  const response = await app.inject({ method, url, payload, headers: payload === undefined ? {} : { 'content-type': 'application/json' } })
  let body: Json = {}
  try {
    body = response.json()
  } catch {
    body = { unparsable: response.body.slice(0, 200) }
  }
  return { status: response.statusCode, body, text: response.body }
}

const paths = (body: Json) => ((body.errors ?? []) as Array<{ path: string }>).map((e) => e.path)

export function runHandMadeCases(t: Test, app: FastifyInstance, registered: string[]): void {
  const has = (name: string) => registered.includes(name)
  const bodyRoutes = FUZZ_ROUTES.filter((route) => route.kind === 'body' && has(routeName(route)))

  t.test('hand-made: every seed is a valid request (the fuzzer perturbs valid shapes)', async (t) => {
    for (const route of bodyRoutes) {
      for (const [i, seed] of seedsOf(route)().entries()) {
        const res = await call(app, 'POST', route.path, seed)
        t.equal(res.status, 200, `${routeName(route)} seed ${i}: ${res.status} ${res.body.detail ?? ''}`)
      }
    }
  })

  for (const route of bodyRoutes) {
    t.test(`hand-made: every field of every seed of ${routeName(route)} given every wrong type`, async (t) => {
      const violations: string[] = []
      let sent = 0
      // The batch seeds' events are the /dedupe seeds, swept there: here only the small batch (envelope and fan-out).
      const seedIndexes = route.path === '/dedupe/batch' ? [1] : seedsOf(route)().map((_, i) => i)
      for (const s of seedIndexes) {
        const count = pathsOf(seedsOf(route)()[s]).length
        for (let at = 1; at < count; at++) {
          for (const [label, value] of WRONG_VALUES) {
            const mutated = applyMutation(seedsOf(route)()[s], { op: 'replace', at, value, key: '' })
            // A tenant of its own: links made by other sweeps (a legitimate "not the counterpart" 400) stay out of it.
            const body = mutated.body as Json
            if (body && typeof body === 'object' && !Array.isArray(body) && !('tenant' in body)) body.tenant = `sweep-${route.path.slice(1).replaceAll('/', '-')}`
            const request: SentRequest = { method: 'POST', url: route.path, headers: { 'content-type': 'application/json' }, payload: toJsonText(mutated.body) }
            sent++
            try {
              const { response, body } = await send(app, request, { statuses: [200, 400, 413], okKey: route.okKey, fieldErrorsOn400: true })
              if (response.statusCode === 400) {
                checkBlame([mutated], body?.errors ?? [], (reason) => {
                  throw new FuzzFailure(reason, request, response)
                })
              }
            } catch (error) {
              violations.push(`seed ${s} ${mutated.path} = ${label}: ${(error as Error).message.split('\n')[0]}`)
            }
          }
        }
      }
      t.same(violations, [], `${sent} requests, each field of each seed replaced by ${WRONG_VALUES.length} wrong values`)
    })
  }

  t.test('hand-made: empty, null, non-JSON and truncated bodies', async (t) => {
    const empty = await call(app, 'POST', '/dedupe', '')
    t.equal(empty.status, 400)
    t.same(paths(empty.body), [''], 'an empty body is blamed on the body')
    const none = await call(app, 'POST', '/dedupe')
    t.equal(none.status, 400, 'no body and no content type')
    for (const text of ['null', '[]', '"x"', '42']) {
      const res = await call(app, 'POST', '/dedupe', text)
      t.equal(res.status, 400, `${text} as the body`)
      t.same(paths(res.body), [''], `${text} is blamed on the body`)
    }
    const truncated = await call(app, 'POST', '/dedupe/commit', '{"system":"outlook","itemId":"a","tok')
    t.equal(truncated.status, 400)
    t.same(paths(truncated.body), [''])
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x']) {
      const res = await call(app, 'POST', '/dedupe', 'system=outlook&itemId=a&version=1', type)
      t.equal(res.status, 415, `${type} is a 415`)
      t.equal(res.body.code, 'unsupported_media_type')
    }
  })

  t.test('hand-made: arrays where objects are expected, objects where arrays are', async (t) => {
    const cases: Array<[string, Json, string]> = [
      ['/dedupe', { notification: [] }, 'notification'],
      ['/dedupe', { changeEvent: [{}] }, 'changeEvent'],
      ['/dedupe', { system: 'outlook', itemId: 'a', version: '1', fields: [] }, 'fields'],
      ['/dedupe/batch', { events: {} }, 'events'],
      ['/dedupe/batch', { events: 'all' }, 'events'],
    ]
    if (has('POST /correlate/confirm')) cases.push(['/correlate/confirm', { source: [], target: { system: 'salesforce', itemId: 'x' } }, 'source'])
    if (has('POST /resolve-conflict')) cases.push(['/resolve-conflict', { outlook: [], salesforce: {} }, 'outlook'])
    for (const [url, payload, path] of cases) {
      const res = await call(app, 'POST', url, payload)
      t.equal(res.status, 400, `${url} ${JSON.stringify(payload)}`)
      t.ok(paths(res.body).some((p) => p === path || p.startsWith(`${path}.`)), `blames ${path}: ${paths(res.body).join(', ')}`)
    }
  })

  t.test('hand-made: sizes', async (t) => {
    const longId = await call(app, 'POST', '/dedupe', { system: 'outlook', itemId: 'i'.repeat(1025), version: '1' })
    t.equal(longId.status, 400)
    t.same(paths(longId.body), ['itemId'])
    const longTenant = await call(app, 'POST', '/dedupe', { tenant: 't'.repeat(129), system: 'outlook', itemId: 'a', version: '1' })
    t.same(paths(longTenant.body), ['tenant'])
    const huge = await call(app, 'POST', '/dedupe', { system: 'outlook', itemId: 'a', version: '1', fields: { description: OVER_LIMIT_STRING } })
    t.equal(huge.status, 413, 'over 1 MiB is a 413')
    t.equal(huge.body.code, 'payload_too_large')
    const bigButFine = await call(app, 'POST', '/dedupe', { system: 'outlook', itemId: 'big-fields', version: '1', fields: { description: 'd'.repeat(900_000) } })
    t.equal(bigButFine.status, 200, 'a 900 kB description is fingerprinted')
    const tooMany = await call(app, 'POST', '/dedupe/batch', { events: Array.from({ length: 501 }, (_, i) => ({ system: 'outlook', itemId: `b${i}`, version: '1' })) })
    t.equal(tooMany.status, 400)
    t.same(paths(tooMany.body), ['events'])
    const overBatchLimit = await call(app, 'POST', '/dedupe/batch', { events: Array.from({ length: 9 }, () => ({ fields: { d: OVER_LIMIT_STRING } })) })
    t.equal(overBatchLimit.status, 413, 'over the 8 MiB batch limit is a 413')
  })

  t.test('hand-made: numbers (NaN-ish strings, 1e309, -0, fractions) in leaseMs, modifiedAt and sequenceNumber', async (t) => {
    const base = { system: 'outlook', itemId: 'numbers', version: '1' }
    for (const leaseMs of [new RawJson('1e309'), new RawJson('-0'), 999, 999.5, 3_600_001, '60000', 'NaN', null]) {
      const res = await call(app, 'POST', '/dedupe', { ...base, leaseMs })
      t.equal(res.status, 400, `leaseMs ${toJsonText(leaseMs)}`)
      t.same(paths(res.body), ['leaseMs'])
    }
    for (const modifiedAt of ['NaN', 'Infinity', '-Infinity', '-0', '0x10', '1e3', new RawJson('1e309'), new RawJson('-1e309'), -1, 1.5, 1773048605000.7, true, {}]) {
      const res = await call(app, 'POST', '/dedupe', { ...base, modifiedAt })
      t.equal(res.status, 400, `modifiedAt ${toJsonText(modifiedAt)}`)
      t.same(paths(res.body), ['modifiedAt'])
    }
    const header = { entityName: 'Event', recordIds: ['00U1'], changeType: 'UPDATE', transactionKey: 'tx', commitTimestamp: 1773047561000 }
    for (const sequenceNumber of ['1', -1, 1.5, new RawJson('1e309'), null]) {
      const res = await call(app, 'POST', '/dedupe', { changeEvent: { ChangeEventHeader: { ...header, sequenceNumber } } })
      t.equal(res.status, 400, `sequenceNumber ${toJsonText(sequenceNumber)}`)
      t.same(paths(res.body), ['changeEvent.ChangeEventHeader.sequenceNumber'])
    }
  })

  t.test('hand-made: dates in every odd format', async (t) => {
    const answers: string[] = []
    for (const [i, date] of ODD_DATES.entries()) {
      const explicit = await call(app, 'POST', '/dedupe', { system: 'outlook', itemId: `date-${i}`, version: '1', modifiedAt: date })
      if (explicit.status === 400) t.same(paths(explicit.body), ['modifiedAt'], `modifiedAt ${date}`)
      const native = await call(app, 'POST', '/dedupe', {
        changeEvent: { ChangeEventHeader: { entityName: 'Event', recordIds: [`date-${i}`], changeType: 'UPDATE', transactionKey: 'tx', sequenceNumber: 1, commitTimestamp: date } },
      })
      if (native.status === 400) t.same(paths(native.body), ['changeEvent.ChangeEventHeader.commitTimestamp'], `commitTimestamp ${date}`)
      const fields = await call(app, 'POST', '/dedupe', { system: 'outlook', itemId: `date-f-${i}`, version: '1', fields: { start: date, end: date } })
      if (fields.status === 400) t.ok(paths(fields.body).every((p) => p === 'fields.start' || p === 'fields.end'), `fields.start ${date}`)
      answers.push(`${date}: ${explicit.status}/${native.status}/${fields.status}`)
    }
    t.comment(`modifiedAt / commitTimestamp / fields.start: ${answers.join('; ')}`)
    const accepted = await call(app, 'POST', '/dedupe', { system: 'outlook', itemId: 'date-ok', version: '1', modifiedAt: '2026-03-09T09:30:05.1234567+01:00' })
    t.equal(accepted.status, 200, 'seven fraction digits with an offset (Graph style) is accepted')
  })

  t.test('hand-made: Graph notifications gone wrong', async (t) => {
    const good = seedsOf(FUZZ_ROUTES[0])()[3] as Json
    const notification = good.notification as Json
    const validation = await call(app, 'POST', '/dedupe', {
      notification: { subscriptionId: 'NA', subscriptionExpirationDateTime: 'NA', clientState: 'NA', changeType: 'Validation: Testing client application reachability for subscription Request-Id: 8e2b', resource: 'NA', resourceData: { '@odata.type': 'NA', '@odata.id': 'NA', id: 'NA' } },
    })
    t.equal(validation.status, 400)
    t.same(paths(validation.body), ['notification'])
    t.match(validation.body.detail, /validation/)
    const lifecycle = await call(app, 'POST', '/dedupe', { notification: { subscriptionId: notification.subscriptionId, tenantId: notification.tenantId, lifecycleEvent: 'missed' } })
    t.equal(lifecycle.status, 400)
    t.match(lifecycle.body.detail, /lifecycle/)
    const collection = await call(app, 'POST', '/dedupe', { notification: { value: [notification] } })
    t.equal(collection.status, 400, 'a whole collection is not one notification')
    t.same(paths(collection.body), ['notification'])
    const emptyEtag = await call(app, 'POST', '/dedupe', { notification: { ...notification, resourceData: { ...notification.resourceData, '@odata.etag': 'W/""' } } })
    t.same(paths(emptyEtag.body), ['notification.resourceData.@odata.etag'])
    const bareEtag = await call(app, 'POST', '/dedupe', { notification: { ...notification, resourceData: { ...notification.resourceData, id: 'bare-etag', '@odata.etag': 'abc' } } })
    t.equal(bareEtag.status, 200, 'an etag without W/"..." is taken as it is')
    t.equal(bareEtag.body.key.version, 'abc')
    const upper = await call(app, 'POST', '/dedupe', { notification: { ...notification, changeType: 'Updated' } })
    t.same(paths(upper.body), ['notification.changeType'])
  })

  t.test('hand-made: Salesforce change events gone wrong', async (t) => {
    const header = { entityName: 'Event', recordIds: ['00U5g00000Xy12ZEAQ', '00U5g00000Xy13AEAQ'], changeType: 'UPDATE', transactionKey: 'tx-sf', sequenceNumber: 1, commitTimestamp: 1773047561000 }
    const several = await call(app, 'POST', '/dedupe', { changeEvent: { ChangeEventHeader: header } })
    t.equal(several.status, 400)
    t.same(paths(several.body), ['changeEvent.ChangeEventHeader.recordIds'])
    t.match(several.body.detail, /\/dedupe\/batch/)
    const overflow = await call(app, 'POST', '/dedupe', { changeEvent: { ChangeEventHeader: { ...header, changeType: 'GAP_OVERFLOW', recordIds: [] } } })
    t.equal(overflow.status, 200)
    t.equal(overflow.body.key.itemId, 'overflow:Event')
    const unknownType = await call(app, 'POST', '/dedupe', { changeEvent: { ChangeEventHeader: { ...header, recordIds: ['00U1'], changeType: 'GAP_FOO' } } })
    t.same(paths(unknownType.body), ['changeEvent.ChangeEventHeader.changeType'])
    const noHeader = await call(app, 'POST', '/dedupe', { changeEvent: { schema: 'x', payload: { Subject: 'no header' }, event: { replayId: 1 } } })
    t.same(paths(noHeader.body), ['changeEvent'])
    const mixed = await call(app, 'POST', '/dedupe', { itemId: 'x', changeEvent: { ChangeEventHeader: { ...header, recordIds: ['00U1'] } } })
    t.same(paths(mixed.body), ['itemId'], 'explicit fields beside a native form are refused by name')
  })

  t.test('hand-made: unicode and control characters in ids round-trip through the record', async (t) => {
    const ids = ['\u0000nul', 'tab\tnew\nline', '\u202eevil-bidi', '🙂👩‍👩‍👧', 'e\u0301', 'a/b?c#d%e', ' spaced ', '{tag}', 'Ünïcödé']
    for (const itemId of ids) {
      const claimed = await call(app, 'POST', '/dedupe', { system: 'outlook', itemId, version: '1' })
      t.equal(claimed.status, 200, `claim ${JSON.stringify(itemId)}`)
      t.equal(claimed.body.key?.itemId, itemId, 'the id comes back exactly')
      const record = await call(app, 'GET', `/dedupe/outlook/${encodeURIComponent(itemId)}`)
      t.equal(record.status, 200, `GET ${JSON.stringify(itemId)}`)
      t.equal(record.body.key?.itemId, itemId)
    }
  })

  t.test('hand-made: prototype names as tenants and ids stay ordinary keys', async (t) => {
    for (const name of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']) {
      const claimed = await call(app, 'POST', '/dedupe', { tenant: name, system: 'outlook', itemId: name, version: '1' })
      t.equal(claimed.body.decision, 'process', `${name} as tenant and id`)
      const committed = await call(app, 'POST', '/dedupe/commit', { tenant: name, system: 'outlook', itemId: name, token: claimed.body.claim.token })
      t.same(committed.body, { committed: true })
      t.equal((await call(app, 'POST', '/dedupe', { tenant: name, system: 'outlook', itemId: name, version: '1' })).body.decision, 'duplicate')
      t.equal((await call(app, 'POST', '/dedupe', { system: 'outlook', itemId: name, version: '1' })).body.decision, 'process', 'other tenants are untouched')
    }
    t.equal(({} as Json).polluted, undefined)
  })

  // ---------------------------------------------------------------------------------------------------------------
  // Regressions: bugs this fuzzer found, each asserting the behaviour the contract asks for.
  // ---------------------------------------------------------------------------------------------------------------

  t.test('regression: a lone UTF-16 surrogate in an id is a 400 naming it', async (t) => {
    const cases: Array<[string, string, string]> = [
      ['/dedupe', '{"system":"outlook","itemId":"\\ud800","version":"1"}', 'itemId'],
      ['/dedupe/commit', '{"system":"outlook","itemId":"a\\udfff","token":"1.x"}', 'itemId'],
      ['/dedupe', '{"tenant":"pair-a","notification":{"changeType":"updated","resourceData":{"id":"\\ud83d","@odata.etag":"W/\\"x\\""}}}', 'notification.resourceData.id'],
    ]
    if (has('POST /correlate')) cases.push(['/correlate', '{"system":"outlook","itemId":"\\ud800","changeType":"created"}', 'itemId'])
    if (has('POST /resolve-conflict')) cases.push(['/resolve-conflict', '{"outlook":{"itemId":"\\ud800","fields":{}},"salesforce":{"fields":{}}}', 'outlook.itemId'])
    for (const [url, payload, path] of cases) {
      const res = await raw(app, 'POST', url, payload)
      t.equal(res.status, 400, `POST ${url} ${payload} -> ${res.status} ${res.text.slice(0, 120)}`)
      t.same(paths(res.body), [path])
    }
  })

  t.test('regression: ids longer than 100 characters can be looked up', async (t) => {
    // A real Graph event id is about 150 characters.
    const graphId = 'AAMkAGQ1ZTM3NWYwLTk4ZjYtNDE4Mi1hMWI0LWIyOTJiZDk3ZjVlNABGAAAAAAAiQ8W967B7TKBjgx9rVEURBwAiIsqMbYjsT5e-T7KzowPTAAAAAAENAAAiIsqMbYjsT5e-T7KzowPTAAAYbvZDAAA='
    const claimed = await call(app, 'POST', '/dedupe', { system: 'outlook', itemId: graphId, version: '1' })
    t.equal(claimed.status, 200)
    const record = await raw(app, 'GET', `/dedupe/outlook/${encodeURIComponent(graphId)}`)
    t.equal(record.status, 200, `GET /dedupe/outlook/<${graphId.length}-char Graph id> -> ${record.status} ${record.text.slice(0, 120)}`)
    const forget = await raw(app, 'DELETE', `/dedupe/outlook/${encodeURIComponent(graphId)}`)
    t.equal(forget.status, 200, `DELETE -> ${forget.status}`)
    if (has('GET /correlate/{system}/{itemId}')) {
      const link = await raw(app, 'GET', `/correlate/outlook/${encodeURIComponent(graphId)}`)
      t.equal(link.status, 404, `GET /correlate/outlook/<long id> -> ${link.status}`)
    }
  })

  t.test('regression: invalid percent-encoding in the URL is a 400 with problem details', async (t) => {
    for (const url of ['/dedupe/outlook/%ff', '/dedupe/outlook/%E2%82', '/dedupe/outlook/a%zz']) {
      const res = await raw(app, 'GET', url)
      t.equal(res.status, 400, `GET ${url}`)
      t.equal(res.body.code, 'invalid_input', `GET ${url} -> ${res.text.slice(0, 160)}`)
      t.type(res.body.type, 'string', 'problem details')
    }
  })

  t.test('regression: deeply nested fields are a 400 naming the field, not a stack overflow', async (t) => {
    const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`
    const cases: Array<[string, string, string]> = [
      ['/dedupe', `{"system":"outlook","itemId":"deep","version":"1","fields":{"x":${deep}}}`, 'fields'],
      ['/dedupe/commit', `{"system":"outlook","itemId":"deep","token":"1.x","fields":{"x":${deep}}}`, 'fields'],
      ['/dedupe/batch', `{"events":[{"system":"outlook","itemId":"deep","version":"1","fields":{"x":${deep}}}]}`, 'events.0.fields'],
    ]
    if (has('POST /correlate')) cases.push(['/correlate', `{"system":"outlook","itemId":"deep","changeType":"created","fields":{"x":${deep}}}`, 'fields'])
    if (has('POST /correlate/confirm')) {
      cases.push(['/correlate/confirm', `{"source":{"system":"outlook","itemId":"d1"},"target":{"system":"salesforce","itemId":"d2"},"written":{"fields":{"x":${deep}}}}`, 'written.fields'])
    }
    if (has('POST /resolve-conflict')) cases.push(['/resolve-conflict', `{"outlook":{"fields":{"x":${deep}}},"salesforce":{"fields":{}}}`, 'outlook.fields'])
    for (const [url, payload, path] of cases) {
      const res = await raw(app, 'POST', url, payload)
      t.ok(res.status < 500, `POST ${url} with fields nested 5000 deep -> ${res.status}`)
      if (res.status === 400) t.ok(paths(res.body).some((p) => p.startsWith(path)), `blames ${path}: ${paths(res.body).join(', ')}`)
      else if (res.status >= 500) t.fail(`expected 200 or a 400 blaming ${path}`)
    }
  })

  t.test('regression: modifiedAt beyond the Date range is a 400', async (t) => {
    for (const [label, modifiedAt] of [['1e20', 1e20], ['"99999999999999999999"', '99999999999999999999'], ['8.64e15 + 1', 8.64e15 + 1]] as const) {
      const itemId = `far-future-${label}`
      const claimed = await raw(app, 'POST', '/dedupe', JSON.stringify({ system: 'outlook', itemId, version: '1', modifiedAt }))
      if (claimed.status === 400) {
        t.same(paths(claimed.body), ['modifiedAt'], `modifiedAt ${label} refused by name`)
        continue
      }
      const committed = await raw(app, 'POST', '/dedupe/commit', JSON.stringify({ system: 'outlook', itemId, token: claimed.body.claim?.token }))
      t.equal(committed.status, 200)
      const again = await raw(app, 'POST', '/dedupe', JSON.stringify({ system: 'outlook', itemId, version: '2' }))
      t.ok(again.status < 500, `POST /dedupe after committing modifiedAt ${label} -> ${again.status}`)
      const record = await raw(app, 'GET', `/dedupe/outlook/${encodeURIComponent(itemId)}`)
      t.ok(record.status < 500, `GET the record after committing modifiedAt ${label} -> ${record.status}`)
    }
    // The same through the commit's own modifiedAt.
    const claimed = await raw(app, 'POST', '/dedupe', JSON.stringify({ system: 'outlook', itemId: 'far-future-commit', version: '1' }))
    const committed = await raw(app, 'POST', '/dedupe/commit', JSON.stringify({ system: 'outlook', itemId: 'far-future-commit', token: claimed.body.claim?.token, modifiedAt: '99999999999999999999999' }))
    if (committed.status === 400) t.same(paths(committed.body), ['modifiedAt'], 'refused by name at commit')
    else t.ok((await raw(app, 'GET', '/dedupe/outlook/far-future-commit')).status < 500, 'GET after a commit with modifiedAt "99999999999999999999999"')
  })

  t.test('regression: /dedupe/batch blames a rejected event\'s fields on "events.<i>.fields..."', async (t) => {
    const res = await call(app, 'POST', '/dedupe/batch', {
      events: [
        { system: 'outlook', itemId: 'batch-ok', version: '1' },
        { system: 'outlook', itemId: 'batch-bad', version: '1', fields: { isPrivate: 'yes' } },
      ],
    })
    t.equal(res.status, 200)
    t.equal(res.body.results[1].decision, 'rejected')
    t.same(paths(res.body.results[1].error), ['events.1.fields.isPrivate'])
  })

  t.test('regression: errors inside native records and events name the fields that were sent', async (t) => {
    if (!has('POST /correlate')) return
    const record = await call(app, 'POST', '/correlate', { system: 'salesforce', itemId: 'native-1', changeType: 'updated', record: { Id: 'native-1', IsPrivate: 'yes' } })
    t.equal(record.status, 400)
    t.same(paths(record.body), ['record.IsPrivate'])
    const event = await call(app, 'POST', '/correlate', { system: 'outlook', itemId: 'native-2', changeType: 'updated', event: { id: 'native-2', sensitivity: 42 } })
    t.equal(event.status, 400)
    t.same(paths(event.body), ['event.sensitivity'])
    const relations = await call(app, 'POST', '/correlate', {
      system: 'salesforce',
      itemId: 'native-3',
      changeType: 'updated',
      record: { Id: 'native-3', EventRelations: { records: [{ Relation: { Email: 7 } }] } },
    })
    t.equal(relations.status, 400)
    t.same(paths(relations.body), ['record.EventRelations.records.0.Relation.Email'], 'dotted indices, as everywhere else')
  })

  t.test('regression: a __proto__ or constructor.prototype key is dropped, not a 400 saying "not valid JSON"', async (t) => {
    for (const payload of [
      '{"system":"outlook","itemId":"proto","version":"1","__proto__":{"x":1}}',
      '{"system":"outlook","itemId":"proto","version":"1","fields":{"constructor":{"prototype":{"x":1}}}}',
    ]) {
      const res = await raw(app, 'POST', '/dedupe', payload)
      t.ok(res.status === 200 || res.status === 400, `${payload} -> ${res.status}`)
      if (res.status === 400) {
        t.notMatch(res.body.detail, /not valid JSON/, `the JSON is valid: say which key is refused (detail: ${res.body.detail})`)
        t.match(res.body.detail, /__proto__|constructor/, 'the detail names the refused key')
      }
    }
    t.equal(({} as Json).x, undefined, 'nothing polluted')
  })
}
