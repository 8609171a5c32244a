// The raw-text pre-check must never clear a body the walk would refuse; clearing ordinary bodies is its purpose.
import fc from 'fast-check'
import t from 'tap'
import { findBadValue, MAX_BODY_DEPTH, textNeedsBodyCheck } from '../../src/plugins/body-guard.js'

const nest = (levels: number, inner: unknown): unknown => (levels === 0 ? inner : { a: [nest(levels - 1, inner)] })

t.test('ordinary bodies need no walk', async (t) => {
  t.equal(textNeedsBodyCheck(JSON.stringify({ system: 'outlook', itemId: 'AAMk=', version: 'v1', modifiedAt: 1773048605000 })), false)
  t.equal(textNeedsBodyCheck(JSON.stringify({ subject: 'Caf\u00e9 \u{1F600}', note: 'a \\u path and "quotes"' })), false)
  const batch = { events: Array.from({ length: 500 }, (_, i) => ({ system: 'outlook', itemId: `i${i}`, version: 'v1' })) }
  t.equal(textNeedsBodyCheck(JSON.stringify(batch)), false, 'many brackets side by side are not depth')
  t.equal(textNeedsBodyCheck(JSON.stringify({ s: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' })), false, 'brackets inside strings')
})

t.test('bodies the walk refuses are always sent to it', async (t) => {
  const cases: Array<[string, string]> = [
    ['lone high surrogate', '{"subject":"\\ud83d"}'],
    ['lone low surrogate in a key', '{"\\uDE00":1}'],
    ['surrogate deep in an array', '{"events":[{"x":["ok","\\uDBFF"]}]}'],
    ['too deep', JSON.stringify(nest(MAX_BODY_DEPTH, 1))],
    ['too deep after an escaped quote', `{"s":"\\"",${JSON.stringify(nest(MAX_BODY_DEPTH, 1)).slice(1)}`],
  ]
  for (const [name, text] of cases) {
    t.ok(findBadValue(JSON.parse(text)), `${name}: the walk refuses it`)
    t.equal(textNeedsBodyCheck(text), true, `${name}: the pre-check sends it to the walk`)
  }
})

t.test('property: whenever the walk refuses a parsed body, the pre-check said so', async () => {
  const surrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
  const text = fc.oneof(fc.string(), fc.tuple(fc.string(), surrogate, fc.string()).map((p) => p.join('')))
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, text, fc.integer(), fc.constant(null), tie('array'), tie('object')),
    array: fc.array(tie('node'), { maxLength: 3 }),
    object: fc.dictionary(text, tie('node'), { maxKeys: 3 }),
  })).node
  const deep = fc.tuple(fc.integer({ min: MAX_BODY_DEPTH - 2, max: MAX_BODY_DEPTH + 2 }), value).map(([n, v]) => nest(n, v))
  fc.assert(
    fc.property(fc.oneof(value, deep), (body) => {
      const raw = JSON.stringify(body)
      if (raw === undefined) return true
      return findBadValue(JSON.parse(raw)) === undefined || textNeedsBodyCheck(raw)
    }),
    { numRuns: 2000 },
  )
})
