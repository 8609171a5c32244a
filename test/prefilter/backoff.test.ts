// Retry timing: exponential 200 ms .. 30 s with jitter, Retry-After honoured.
import t from 'tap'
import { parseRetryAfter, retryDelayMs } from '../../src/prefilter/backoff.js'

t.test('the schedule doubles from 200 ms and stops at 30 s', async (t) => {
  const top = { random: () => 1 }
  t.same(
    [1, 2, 3, 4, 5, 8, 9, 20, 1_000].map((attempt) => retryDelayMs(attempt, undefined, top)),
    [200, 400, 800, 1_600, 3_200, 25_600, 30_000, 30_000, 30_000],
  )
  const low = { random: () => 0 }
  t.equal(retryDelayMs(1, undefined, low), 200, 'never below the minimum')
  t.equal(retryDelayMs(3, undefined, low), 640, 'jitter takes at most 20%')
})

t.test('Retry-After wins, within sane bounds', async (t) => {
  t.equal(retryDelayMs(1, 5_000), 5_000)
  t.equal(retryDelayMs(9, 1_000), 1_000)
  t.equal(retryDelayMs(1, 0), 200)
  t.equal(retryDelayMs(1, 3_600_000), 600_000)
})

t.test('Retry-After is read as seconds or an HTTP date', async (t) => {
  const now = Date.parse('2026-03-01T10:00:00Z')
  t.equal(parseRetryAfter('3', now), 3_000)
  t.equal(parseRetryAfter('Sun, 01 Mar 2026 10:00:07 GMT', now), 7_000)
  t.equal(parseRetryAfter('Sun, 01 Mar 2026 09:00:00 GMT', now), 0)
  t.equal(parseRetryAfter(null, now), undefined)
  t.equal(parseRetryAfter('', now), undefined)
  t.equal(parseRetryAfter('soon', now), undefined)
  t.equal(parseRetryAfter('-1', now), undefined)
})
