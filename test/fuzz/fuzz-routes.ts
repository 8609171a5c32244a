// The fuzzer's route table and its fast-check properties: mutated bodies, odd URLs, raw bytes, stateful sequences.
import type { FastifyInstance, InjectOptions } from 'fastify'
import fc from 'fast-check'
import { applyMutation, mutationArb, nastyString, nastyValue, ODD_DATES, OVER_LIMIT_STRING, toJsonText, type Mutation } from './mutations.js'
import { checkBlame, checkResponse, FuzzFailure, problemShapeError, type Expectation, type SentRequest } from './response-checks.js'
import { SEEDS } from './seeds.js'

export interface FuzzRoute {
  method: 'GET' | 'POST' | 'DELETE'
  /** as the OpenAPI document writes it */
  path: string
  kind: 'body' | 'item' | 'plain'
  okKey: string
}

/** Every route the fuzzer knows how to attack; a registered route missing here fails the coverage test. */
export const FUZZ_ROUTES: readonly FuzzRoute[] = [
  { method: 'POST', path: '/dedupe', kind: 'body', okKey: 'decision' },
  { method: 'POST', path: '/dedupe/commit', kind: 'body', okKey: 'committed' },
  { method: 'POST', path: '/dedupe/release', kind: 'body', okKey: 'released' },
  { method: 'POST', path: '/dedupe/batch', kind: 'body', okKey: 'results' },
  { method: 'GET', path: '/dedupe/{system}/{itemId}', kind: 'item', okKey: 'key' },
  { method: 'DELETE', path: '/dedupe/{system}/{itemId}', kind: 'item', okKey: 'deleted' },
  { method: 'POST', path: '/correlate', kind: 'body', okKey: 'action' },
  { method: 'POST', path: '/correlate/confirm', kind: 'body', okKey: 'linked' },
  { method: 'GET', path: '/correlate/{system}/{itemId}', kind: 'item', okKey: 'state' },
  { method: 'DELETE', path: '/correlate/{system}/{itemId}', kind: 'item', okKey: 'deleted' },
  { method: 'POST', path: '/resolve-conflict', kind: 'body', okKey: 'outcome' },
  { method: 'GET', path: '/healthz', kind: 'plain', okKey: 'status' },
  { method: 'GET', path: '/readyz', kind: 'plain', okKey: 'ready' },
]

export const routeName = (route: Pick<FuzzRoute, 'method' | 'path'>) => `${route.method} ${route.path}`

/** The routes the app registers, as "METHOD /path" from its own OpenAPI document (every API route is documented). */
export function registeredRoutes(app: FastifyInstance): string[] {
  const paths = (app.swagger() as { paths?: Record<string, Record<string, unknown>> }).paths ?? {}
  return Object.entries(paths).flatMap(([path, methods]) =>
    Object.keys(methods)
      .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  )
}

const EXPECT: Record<FuzzRoute['kind'], readonly number[]> = {
  body: [200, 400, 413, 415],
  item: [200, 400, 404],
  plain: [200],
}

let requestCount = 0
/** Requests sent by every property so far (the test reports it). */
export const requestsSent = () => requestCount

export async function send(app: FastifyInstance, request: SentRequest, expect: Expectation) {
  requestCount++
  let response
  try {
    response = await app.inject(request as InjectOptions)
  } catch (error) {
    throw new Error(`inject threw for ${request.method} ${request.url}: ${(error as Error).message}`)
  }
  return { response, body: checkResponse(request, response, expect) as Record<string, any> | undefined }
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 })
const headersArb = fc.record(
  {
    accept: fc.constantFrom('application/json', 'application/problem+json', '*/*', 'text/html', 'application/problem+json, application/json;q=0.9', ''),
    'x-correlation-id': fc.oneof(printable, fc.constantFrom('', ' ', 'a'.repeat(129), 'ok-id-1', '\t')),
  },
  { requiredKeys: [] },
)

/** The seed bodies of a route: a valid realistic shape, or (for routes without seeds) an empty object. */
export const seedsOf = (route: FuzzRoute) => SEEDS[routeName(route)] ?? (() => [{}])

interface BodyCase {
  seed: number
  mutations: Mutation[]
  replaceWith?: { value: unknown }
}

const bodyCaseArb: fc.Arbitrary<BodyCase> = fc.oneof(
  { arbitrary: fc.record({ seed: fc.nat(), mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) }), weight: 10 },
  { arbitrary: fc.record({ seed: fc.nat(), mutations: fc.constant<Mutation[]>([]) }), weight: 1 },
  { arbitrary: fc.record({ seed: fc.constant(0), mutations: fc.constant<Mutation[]>([]), replaceWith: fc.record({ value: fc.oneof(nastyValue, fc.jsonValue()) }) }), weight: 2 },
)

export interface RunOptions {
  numRuns: number
  seed: number
}

/** Valid seeds perturbed 1-3 times, or replaced by anything: 200, or a 4xx naming the field. */
export async function fuzzBodyRoute(app: FastifyInstance, route: FuzzRoute, options: RunOptions): Promise<void> {
  const expect: Expectation = { statuses: EXPECT.body, okKey: route.okKey, fieldErrorsOn400: true }
  await fc.assert(
    fc.asyncProperty(bodyCaseArb, headersArb, async (bodyCase, headers) => {
      const seeds = seedsOf(route)()
      let body: unknown = bodyCase.replaceWith ? bodyCase.replaceWith.value : seeds[bodyCase.seed % seeds.length]
      const touched: Array<{ path: string; op: string }> = []
      for (const mutation of bodyCase.mutations) {
        const applied = applyMutation(body, mutation)
        body = applied.body
        touched.push({ path: applied.path, op: applied.op })
      }
      const request: SentRequest = { method: route.method, url: route.path, headers: { 'content-type': 'application/json', ...headers }, payload: toJsonText(body) }
      const { response, body: answer } = await send(app, request, expect)
      const fail = (reason: string): never => {
        throw new FuzzFailure(reason, request, response)
      }
      // Prototype keys are refused by the JSON parser for the whole body; the hand-made case 'prototype keys' covers it.
      const prototypeKey = /"(__proto__|constructor)":/.test(request.payload as string)
      if (response.statusCode === 400 && !prototypeKey) checkBlame(touched, answer?.errors ?? [], fail)
      if (route.path === '/dedupe/batch' && response.statusCode === 200) checkBatch(body, answer as { results: unknown[] }, touched, fail)
    }),
    { numRuns: options.numRuns, seed: options.seed, endOnFailure: true },
  )
}

/** One result per event; a rejected event carries problem details whose paths sit under events.<i>. */
function checkBatch(body: unknown, answer: { results: unknown[] }, touched: Array<{ path: string; op: string }>, fail: (reason: string) => never) {
  const events = (body as { events: unknown[] }).events
  if (!Array.isArray(answer.results) || answer.results.length !== events.length) fail(`results has ${answer.results?.length} entries for ${events.length} events`)
  answer.results.forEach((result, i) => {
    const entries = Array.isArray(result) ? result : [result]
    for (const entry of entries as Array<Record<string, any>>) {
      if (entry.decision !== 'rejected') {
        if (typeof entry.decision !== 'string' || typeof entry.key !== 'object') fail(`results.${i} has no decision and key`)
        continue
      }
      const shape = problemShapeError(entry.error, 400, true)
      if (shape) fail(`results.${i} is rejected but its error ${shape}`)
      const errors = entry.error.errors as Array<{ path: string }>
      if (!errors.every((e) => e.path === `events.${i}` || e.path.startsWith(`events.${i}.`))) {
        fail(`results.${i} blames ${errors.map((e) => e.path).join(', ')}, outside events.${i}`)
      }
      const mine = touched.filter((p) => p.path === `events.${i}` || p.path.startsWith(`events.${i}.`))
      if (mine.length === touched.length) checkBlame(mine, errors, fail)
    }
  })
}

const enc = (text: string) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '\ufffd'))
const itemSegment = fc.oneof(
  { arbitrary: fc.constantFrom('AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=', '00U5g00000Xy12ZEAQ', 'a/b', 'a?b#c', 'x'.repeat(1025), '%', '..', '.'), weight: 2 },
  { arbitrary: nastyString.filter((s) => s.length < 5000), weight: 3 },
)
const systemSegment = fc.oneof(fc.constantFrom('outlook', 'salesforce', 'crm-x', 'OUTLOOK', 'a'.repeat(33), 'out look', '-', 'x_y'), nastyString.filter((s) => s.length < 200))
const queryArb = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?tenant=pair-a', '?tenant=', '?tenant=a&tenant=b', '?tenant[]=x', '?tenant[a]=1', '?x=%zz', '?tenant=%E2%82', '?&&&', '?__proto__[x]=1', '?constructor=1'),
  nastyString.filter((s) => s.length < 300).map((s) => `?tenant=${enc(s)}`),
)

/** GET/HEAD/DELETE on /{system}/{itemId} with odd segments and queries: 200, 400 naming the param, or 404. */
export async function fuzzItemRoute(app: FastifyInstance, route: FuzzRoute, options: RunOptions): Promise<void> {
  const base = route.path.replace('/{system}/{itemId}', '')
  await fc.assert(
    fc.asyncProperty(systemSegment, itemSegment, queryArb, headersArb, fc.boolean(), async (system, itemId, query, headers, head) => {
      const method = route.method === 'GET' && head ? 'HEAD' : route.method
      const url = `${base}/${enc(system)}/${enc(itemId)}${query}`
      await send(app, { method, url, headers }, { statuses: EXPECT.item, okKey: route.okKey, fieldErrorsOn400: true })
    }),
    { numRuns: options.numRuns, seed: options.seed, endOnFailure: true },
  )
}

/** Operational routes with junk queries and headers: always 200. */
export async function fuzzPlainRoute(app: FastifyInstance, route: FuzzRoute, options: RunOptions): Promise<void> {
  await fc.assert(
    fc.asyncProperty(queryArb, headersArb, async (query, headers) => {
      await send(app, { method: route.method, url: `${route.path}${query}`, headers }, { statuses: EXPECT.plain, okKey: route.okKey })
    }),
    { numRuns: options.numRuns, seed: options.seed, endOnFailure: true },
  )
}

/** Anything but a JSON body of the right shape: wrong content types, truncated or corrupt text, odd encodings. */
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/problem+json',
  'application/vnd.api+json',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  '*/*',
  'json',
  '',
]
const RAW_BODIES = [
  '',
  ' ',
  'null',
  'true',
  '"x"',
  '1',
  '[]',
  '[{}]',
  '{',
  '}',
  '{"a":}',
  '{"a":1,}',
  "{'a':1}",
  '{"a":1}{"b":2}',
  '\u0000',
  'NaN',
  '{"system":"a","system":"outlook","itemId":"i","version":"v"}',
  '{"__proto__":{"x":1},"system":"outlook","itemId":"i","version":"v"}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '<xml/>',
  'a=b&c=d',
]

type RawTransform =
  | { kind: 'truncate'; at: number }
  | { kind: 'raw'; text: string }
  | { kind: 'bom' }
  | { kind: 'garbage'; tail: string }
  | { kind: 'flip'; at: number; char: string }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'asIs' }
  | { kind: 'tooLarge' }

const rawTransformArb: fc.Arbitrary<RawTransform> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('raw' as const), text: fc.constantFrom(...RAW_BODIES) }),
  fc.record({ kind: fc.constant('bom' as const) }),
  fc.record({ kind: fc.constant('garbage' as const), tail: fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: fc.constantFrom('"', '{', '}', '[', ',', ':', '\\', '\u0000', 'x') }),
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }) }),
  fc.record({ kind: fc.constant('asIs' as const) }),
  fc.record({ kind: fc.constant('tooLarge' as const) }),
)

function transformRaw(text: string, transform: RawTransform): string | Buffer {
  switch (transform.kind) {
    case 'truncate':
      return text.slice(0, transform.at % Math.max(1, text.length))
    case 'raw':
      return transform.text
    case 'bom':
      return `\ufeff${text}`
    case 'garbage':
      return text + transform.tail
    case 'flip': {
      const at = transform.at % Math.max(1, text.length)
      return text.slice(0, at) + transform.char + text.slice(at + 1)
    }
    case 'bytes':
      return Buffer.concat([Buffer.from(text.slice(0, 20)), Buffer.from(transform.bytes)])
    case 'asIs':
      return text
    case 'tooLarge':
      return text.replace(/}$/, `,"pad":"${OVER_LIMIT_STRING}"}`)
  }
}

export async function fuzzRawBodies(app: FastifyInstance, routes: FuzzRoute[], options: RunOptions): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.nat(),
      fc.nat(),
      fc.constantFrom(...CONTENT_TYPES),
      rawTransformArb,
      headersArb,
      async (routeIndex, seedIndex, contentType, transform, headers) => {
        const route = routes[routeIndex % routes.length]
        const seeds = seedsOf(route)()
        const payload = transformRaw(toJsonText(seeds[seedIndex % seeds.length]), transform)
        const request: SentRequest = { method: 'POST', url: route.path, headers: { ...headers, 'content-type': contentType }, payload }
        // The batch route accepts 8 MiB, so the 1.1 MB padding is no 413 there.
        await send(app, request, { statuses: EXPECT.body, okKey: route.okKey, fieldErrorsOn400: true })
      },
    ),
    { numRuns: options.numRuns, seed: options.seed, endOnFailure: true },
  )
}

// Values the schemas accept but that are odd: they reach the store and come back in later answers.
const acceptedInstant = fc.oneof(
  fc.constantFrom<string | number>(
    '2026-03-09T09:30:05Z',
    '2026-03-09T09:30:05.1234567+01:00',
    '2026-03-09T09:30:05-1130',
    '1970-01-01T00:00:00Z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999Z',
    '1773047561000',
    0,
    1773047561000,
    1773047561000.75,
    8.64e15,
  ),
  fc.maxSafeNat().map((n) => n % 8.64e15),
  fc.constantFrom(...ODD_DATES),
)
const acceptedText = fc.oneof(
  fc.constantFrom('v1', 'a b', 'a|b|c', 'v:1', '{tag}', '\u0000', '🙂', '\ud800', ' ', '1.2.3', 'x'.repeat(1024), '%', 'W/"x"'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
)
const acceptedTenant = fc.oneof(fc.constant(undefined), fc.constantFrom('pair-a', '{x}', '%41', 'a'.repeat(128), '__proto__', 'constructor'))
const acceptedSystem = fc.constantFrom('outlook', 'salesforce', 'crm-x', '0', 'a'.repeat(32))
const acceptedFields = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(fc.constantFrom('subject', 'start', 'end', 'body', 'description', 'attendees', 'location', 'isAllDay', 'x'), nastyValue, { maxKeys: 4 }),
)

/** claim -> commit (with overrides) -> claim again -> record -> release -> forget, with odd but accepted values. */
export async function fuzzDedupeLifecycle(app: FastifyInstance, options: RunOptions): Promise<void> {
  const expect = (okKey: string): Expectation => ({ statuses: [200, 400, 413], okKey, fieldErrorsOn400: true })
  const item = fc.record({
    tenant: acceptedTenant,
    system: acceptedSystem,
    itemId: acceptedText,
    first: fc.record({ version: acceptedText, modifiedAt: fc.option(acceptedInstant, { nil: undefined }), fields: acceptedFields, changeType: fc.option(fc.constantFrom('created', 'updated', 'deleted', 'undeleted'), { nil: undefined }) }),
    commit: fc.record({ version: fc.option(acceptedText, { nil: undefined }), modifiedAt: fc.option(acceptedInstant, { nil: undefined }), fingerprint: fc.option(acceptedText, { nil: undefined }) }),
    again: fc.record({ version: acceptedText, modifiedAt: fc.option(acceptedInstant, { nil: undefined }), fields: acceptedFields }),
  })
  await fc.assert(
    fc.asyncProperty(item, async ({ tenant, system, itemId, first, commit, again }) => {
      const key = { tenant, system, itemId }
      const post = (url: string, payload: object, okKey: string) =>
        send(app, { method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: toJsonText(payload) }, expect(okKey))
      const claimed = await post('/dedupe', { ...key, ...first }, 'decision')
      const token = claimed.body?.claim?.token ?? '1.none'
      await post('/dedupe/commit', { ...key, token, ...commit }, 'committed')
      await post('/dedupe', { ...key, ...again }, 'decision')
      await post('/dedupe/batch', { tenant, events: [{ system, itemId, ...again }, { system, itemId, ...first }] }, 'results')
      const url = `/dedupe/${enc(system)}/${enc(itemId)}${tenant === undefined ? '' : `?tenant=${enc(tenant)}`}`
      await send(app, { method: 'GET', url }, { statuses: [200, 400, 404], okKey: 'key', fieldErrorsOn400: true })
      await post('/dedupe/release', { ...key, token }, 'released')
      await send(app, { method: 'DELETE', url }, { statuses: [200, 400], okKey: 'deleted', fieldErrorsOn400: true })
    }),
    { numRuns: options.numRuns, seed: options.seed, endOnFailure: true },
  )
}

const acceptedBaseline = fc.dictionary(
  fc.constantFrom('subject', 'start', 'end', 'isAllDay', 'location', 'description', 'showAs', 'isPrivate', 'attendees', 'x'),
  fc.oneof(nastyValue, fc.constantFrom(...ODD_DATES)),
  { maxKeys: 5 },
)

/** correlate -> confirm (storing an odd baseline) -> correlate again -> link -> resolve-conflict on the stored base -> unlink. */
export async function fuzzCorrelateLifecycle(app: FastifyInstance, options: RunOptions): Promise<void> {
  const expect = (okKey: string): Expectation => ({ statuses: [200, 400, 413], okKey, fieldErrorsOn400: true })
  const arb = fc.record({
    tenant: acceptedTenant,
    outlookId: acceptedText,
    salesforceId: acceptedText,
    fields: fc.option(acceptedBaseline, { nil: undefined }),
    baseline: fc.option(acceptedBaseline, { nil: undefined }),
    otherFields: fc.option(acceptedBaseline, { nil: undefined }),
    deleted: fc.boolean(),
  })
  await fc.assert(
    fc.asyncProperty(arb, async ({ tenant, outlookId, salesforceId, fields, baseline, otherFields, deleted }) => {
      const post = (url: string, payload: object, okKey: string) =>
        send(app, { method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: toJsonText(payload) }, expect(okKey))
      const created = await post('/correlate', { tenant, system: 'outlook', itemId: outlookId, changeType: 'created', fields }, 'action')
      const source = { system: 'outlook', itemId: outlookId }
      const target = { system: 'salesforce', itemId: salesforceId }
      await post('/correlate/confirm', { tenant, source, target, written: fields && { fields }, baseline, reservationToken: created.body?.reservation?.token }, 'linked')
      await post('/correlate', { tenant, system: 'salesforce', itemId: salesforceId, changeType: 'updated', fields: otherFields, targetFields: fields }, 'action')
      const query = tenant === undefined ? '' : `?tenant=${enc(tenant)}`
      await send(app, { method: 'GET', url: `/correlate/salesforce/${enc(salesforceId)}${query}` }, { statuses: [200, 400, 404], okKey: 'state', fieldErrorsOn400: true })
      if (app.hasRoute({ method: 'POST', url: '/resolve-conflict' })) {
        await post('/resolve-conflict', { tenant, outlook: { itemId: outlookId, fields: otherFields ?? {} }, salesforce: { itemId: salesforceId, fields: fields ?? {} } }, 'outcome')
      }
      if (deleted) await post('/correlate/confirm', { tenant, source, target, deleted: true }, 'linked')
      await send(app, { method: 'DELETE', url: `/correlate/outlook/${enc(outlookId)}${query}` }, { statuses: [200, 400], okKey: 'deleted', fieldErrorsOn400: true })
    }),
    { numRuns: options.numRuns, seed: options.seed, endOnFailure: true },
  )
}
