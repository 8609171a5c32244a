// isoOf caches the formatted second; its output must still be exactly Date#toISOString for every instant.
import fc from 'fast-check'
import t from 'tap'
import { isoOf } from '../../src/routes/common-schemas.js'

const MAX = 8.64e15

t.test('isoOf equals Date#toISOString', async (t) => {
  for (const ms of [0, 1, 999, 1000, -1, -1000, -1001, 1773048605123, 253402300799999, 253402300800000, -62167219200001, MAX, -MAX, 1.9, -0.5]) {
    t.equal(isoOf(ms), new Date(ms).toISOString(), String(ms))
  }
  t.equal(isoOf(undefined), undefined)
  t.throws(() => isoOf(Number.NaN), RangeError)
  t.throws(() => isoOf(MAX + 1), RangeError)
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: -MAX, max: MAX }), fc.integer({ min: 1773048600000, max: 1773048610000 })), { maxLength: 20 }), (instants) =>
      instants.every((ms) => isoOf(ms) === new Date(ms).toISOString()),
    ),
    { numRuns: 2000 },
  )
})
