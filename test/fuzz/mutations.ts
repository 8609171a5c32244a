// Nasty values and body mutations for the HTTP fuzzer: wrong types, odd numbers and dates, unicode, prototype keys.
import fc from 'fast-check'

/** A JSON token written verbatim into the body text (JSON.stringify cannot produce 1e309 or -0). */
export class RawJson {
  constructor(readonly text: string) {}
}

export const HUGE_STRING = 'x'.repeat(200_000)
/** Over the 1 MiB body limit on its own. */
export const OVER_LIMIT_STRING = 'y'.repeat(1_100_000)

export const ODD_DATES = [
  '2026-03-09',
  '2026-03-09T09:30',
  '2026-03-09T09:30:05',
  '2026-03-09 09:30:05Z',
  '20260309T093005Z',
  '2026-W11-1',
  '2026-068',
  'Mon, 09 Mar 2026 09:30:05 GMT',
  '09/03/2026 09:30',
  '2026-13-45T25:61:61Z',
  '2026-02-30T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.001Z',
  '9999-12-31T23:59:59.9999999Z',
  '2026-03-09T09:30:05.1234567+01:00',
  '2026-03-09T09:30:05+0100',
  '2026-03-09T09:30:05+01',
  '2026-03-09T09:30:05z',
  '2026-03-09T09:30:05.000+0000',
  '2026-03-09T24:00:00Z',
  '/Date(1773047561000)/',
  '1773047561000',
  '1773047561',
  '99999999999999999999999',
  '1e12',
  '-1',
  'today',
]

const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\t\r\n',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-0',
  '0x1F',
  '  42  ',
  '٣٤',
  'null',
  'undefined',
  'true',
  '__proto__',
  'constructor',
  'prototype',
  '{"a":1}',
  '[]',
  '../../etc/passwd',
  '%00',
  '%',
  '{tag}',
  '}{',
  'a b',
  'a|b|c',
  'v:1',
  '*',
  '?x=1#y',
  '\\',
  '"',
  "'",
  '<script>alert(1)</script>',
  'W/"',
  'W/""',
  'W/"abc"',
  '"abc"',
  'Validation: probe',
  'GAP_OVERFLOW',
  'GAP_',
  'overflow:Event',
  'fail-open:',
  '1.',
  '99999999999999999999.x',
  '0.abc',
  ' \u200b',
  '\u202eevil',
  '\ufeff',
  '🙂',
  '👩‍👩‍👧',
  'e\u0301',
  '\ud800',
  '\udfff',
  'A'.repeat(129),
  'A'.repeat(257),
  'A'.repeat(1025),
  HUGE_STRING,
  ...ODD_DATES,
]

const ODD_NUMBERS = [
  0, -1, 1, 0.5, -0.5, 999, 1000, 3_600_000, 3_600_001, 2 ** 31, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER,
  8.64e15, 1.7976931348623157e308, 5e-324, 1773047561000, 1773047561,
]

const RAW_TOKENS = ['1e309', '-1e309', '-0', '1E400', '1e-400', '123456789012345678901234567890', '1.0', '-0.0', '0.1e1']

/** Objects with own prototype-ish keys (JSON.parse makes `__proto__` an own property, not the prototype). */
const PROTOTYPE_OBJECTS = [
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"prototype":null,"toString":1,"hasOwnProperty":"x","valueOf":[]}',
  '{"__proto__":null}',
]

const nest = (depth: number, leaf: unknown): unknown => {
  let value = leaf
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value }
  return value
}

export const nastyString = fc.oneof(
  { arbitrary: fc.constantFrom(...ODD_STRINGS), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 1 },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
)

export const nastyNumber = fc.oneof(
  fc.constantFrom(...ODD_NUMBERS),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(...RAW_TOKENS).map((text) => new RawJson(text)),
)

/** Any wrong or odd value for any field. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: nastyString, weight: 5 },
  { arbitrary: nastyNumber, weight: 3 },
  { arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], [[]], ['a', 1, null]), weight: 2 },
  { arbitrary: fc.constantFrom(...PROTOTYPE_OBJECTS).map((text) => JSON.parse(text) as unknown), weight: 1 },
  { arbitrary: fc.integer({ min: 5, max: 60 }).chain((depth) => nastyString.map((leaf) => nest(depth, leaf))), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  { arbitrary: fc.array(nastyString, { maxLength: 5 }), weight: 1 },
)

const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'tenant', 'fields', 'fingerprint', 'system', 'itemId', 'version', 'notification', 'changeEvent', 'value', '']

export type Step = string | number
export type MutationOp = 'replace' | 'delete' | 'addKey' | 'wrapInArray' | 'stringify' | 'empty'

export interface Mutation {
  op: MutationOp
  /** picks the node among every node of the body (modulo their count) */
  at: number
  value: unknown
  key: string
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom<MutationOp>('replace', 'replace', 'replace', 'delete', 'addKey', 'wrapInArray', 'stringify', 'empty'),
  at: fc.nat(),
  value: nastyValue,
  key: fc.oneof(fc.constantFrom(...KEYS), fc.string({ unit: 'binary', maxLength: 10 })),
})

const isContainer = (value: unknown): value is Record<string, unknown> | unknown[] => typeof value === 'object' && value !== null

/** Every path into the value, the root ([]) first. */
export function pathsOf(value: unknown, prefix: Step[] = [], out: Step[][] = []): Step[][] {
  out.push(prefix)
  if (Array.isArray(value)) value.forEach((entry, i) => pathsOf(entry, [...prefix, i], out))
  else if (isContainer(value)) for (const [key, entry] of Object.entries(value)) pathsOf(entry, [...prefix, key], out)
  return out
}

const clone = (value: unknown): unknown => (value instanceof RawJson ? value : isContainer(value) ? structuredClone(value) : value)

function getAt(root: unknown, path: Step[]): unknown {
  let node = root
  for (const step of path) node = (node as Record<string, unknown>)[step as string]
  return node
}

function setAt(root: unknown, path: Step[], value: unknown): unknown {
  if (path.length === 0) return value
  const parent = getAt(root, path.slice(0, -1)) as Record<string, unknown>
  Object.defineProperty(parent, path[path.length - 1] as string, { value, enumerable: true, writable: true, configurable: true })
  return root
}

/** Applies one mutation; returns the new body and the dotted path it touched (as the app names paths). */
export function applyMutation(body: unknown, mutation: Mutation): { body: unknown; path: string; op: MutationOp } {
  const paths = pathsOf(body)
  const path = paths[mutation.at % paths.length]
  const node = getAt(body, path)
  const dotted = path.join('.')
  switch (mutation.op) {
    case 'replace':
      return { body: setAt(body, path, clone(mutation.value)), path: dotted, op: 'replace' }
    case 'delete': {
      if (path.length === 0) return { body: undefined, path: '', op: 'delete' }
      const parent = getAt(body, path.slice(0, -1))
      const last = path[path.length - 1]
      if (Array.isArray(parent)) parent.splice(last as number, 1)
      else delete (parent as Record<string, unknown>)[last as string]
      return { body, path: dotted, op: 'delete' }
    }
    case 'addKey': {
      if (!isContainer(node) || Array.isArray(node)) return { body: setAt(body, path, clone(mutation.value)), path: dotted, op: 'replace' }
      setAt(node, [mutation.key], clone(mutation.value))
      return { body, path: dotted ? `${dotted}.${mutation.key}` : mutation.key, op: 'addKey' }
    }
    case 'wrapInArray':
      return { body: setAt(body, path, [node]), path: dotted, op: 'replace' }
    case 'stringify':
      return { body: setAt(body, path, node instanceof RawJson ? node.text : JSON.stringify(node) ?? 'undefined'), path: dotted, op: 'replace' }
    case 'empty':
      return { body: setAt(body, path, Array.isArray(node) ? [] : typeof node === 'string' ? '' : {}), path: dotted, op: 'replace' }
  }
}

/** JSON text of a body that may hold RawJson tokens. */
export function toJsonText(body: unknown): string {
  const raws: string[] = []
  const text = JSON.stringify(body, (_key, value: unknown) => {
    if (value instanceof RawJson) {
      raws.push(value.text)
      return `\u0000raw${raws.length - 1}\u0000`
    }
    return value
  })
  if (text === undefined) return ''
  return raws.length === 0 ? text : text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)])
}
