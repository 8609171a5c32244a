import t from 'tap'
import {
  addDays,
  daysBetween,
  graphDateTimeToInstant,
  instantToGraphDateTime,
  resolveTimeZone,
  toInstant,
  writtenDate,
} from '../../src/domain/time-zones.js'

t.test('zone names: Windows (any case), IANA, UTC, custom', async (t) => {
  t.same(resolveTimeZone('W. Europe Standard Time'), { zone: 'Europe/Berlin', custom: false })
  t.same(resolveTimeZone('pacific standard time'), { zone: 'America/Los_Angeles', custom: false })
  t.same(resolveTimeZone('Europe/Paris'), { zone: 'Europe/Paris', custom: false })
  t.equal(resolveTimeZone('UTC')?.custom, false)
  t.same(resolveTimeZone('tzone://Microsoft/Custom'), { zone: 'UTC', custom: true })
  t.equal(resolveTimeZone('Mars Standard Time'), undefined)
})

t.test('Graph dateTime + zone to UTC instants across DST changes', async (t) => {
  const at = (dateTime: string, timeZone: string) => graphDateTimeToInstant({ dateTime, timeZone }, 'start').instant
  // US DST starts 2026-03-08: 09:00 Pacific is 17:00Z before and 16:00Z after.
  t.equal(at('2026-03-07T09:00:00.0000000', 'Pacific Standard Time'), '2026-03-07T17:00:00.000Z')
  t.equal(at('2026-03-09T09:00:00.0000000', 'Pacific Standard Time'), '2026-03-09T16:00:00.000Z')
  t.equal(at('2026-03-09T09:00:00', 'America/Los_Angeles'), '2026-03-09T16:00:00.000Z')
  // EU DST starts 2026-03-29: 10:00 Berlin is 09:00Z before and 08:00Z after.
  t.equal(at('2026-03-28T10:00:00.0000000', 'W. Europe Standard Time'), '2026-03-28T09:00:00.000Z')
  t.equal(at('2026-03-30T10:00:00.0000000', 'W. Europe Standard Time'), '2026-03-30T08:00:00.000Z')
  t.equal(at('2026-03-10T15:30:00.1234567', 'UTC'), '2026-03-10T15:30:00.123Z')
  t.equal(at('2026-03-10T15:30:00.0000000', 'India Standard Time'), '2026-03-10T10:00:00.000Z')
  t.same(graphDateTimeToInstant({ dateTime: '2026-03-10T15:30:00.0000000', timeZone: 'tzone://Microsoft/Custom' }, 'start'), {
    instant: '2026-03-10T15:30:00.000Z',
    customZone: true,
  })
})

t.test('bad time values name the field', async (t) => {
  t.throws(() => graphDateTimeToInstant({ dateTime: '2026-03-10T15:30:00', timeZone: 'Nowhere/Land' }, 'event.start'), { name: 'InvalidFieldError', path: 'event.start.timeZone' })
  t.throws(() => graphDateTimeToInstant({ dateTime: 'soon', timeZone: 'UTC' }, 'event.start'), { name: 'InvalidFieldError', path: 'event.start.dateTime' })
  t.throws(() => graphDateTimeToInstant('2026-03-10', 'event.start'), { name: 'InvalidFieldError', path: 'event.start' })
  t.throws(() => toInstant('2026-13-40T00:00:00Z', 'x'), { name: 'InvalidFieldError', path: 'x' })
  t.throws(() => toInstant(Number.NaN, 'x'), { name: 'InvalidFieldError', path: 'x' })
  t.throws(() => toInstant(true, 'x'), { name: 'InvalidFieldError', path: 'x' })
  t.throws(() => writtenDate('03/05/2026', 'd'), { name: 'InvalidFieldError', path: 'd' })
  // Offsets past 23:59 are no offsets (luxon alone reads them as instants).
  for (const offset of ['+99:99', '+25:00', '-24:00', '+05:60']) {
    t.throws(() => toInstant(`2026-03-10T10:00:00${offset}`, 'x'), { name: 'InvalidFieldError', path: 'x' }, offset)
    t.throws(() => graphDateTimeToInstant({ dateTime: `2026-03-10T10:00:00${offset}`, timeZone: 'UTC' }, 'e'), { name: 'InvalidFieldError', path: 'e.dateTime' }, offset)
  }
  t.equal(toInstant('2026-03-10T10:00:00+14:00', 'x'), '2026-03-09T20:00:00.000Z')
  t.equal(toInstant('2026-03-10T10:00:00-12:00', 'x'), '2026-03-10T22:00:00.000Z')
  t.equal(toInstant('2026-03-10T10:00:00+23:59', 'x'), '2026-03-09T10:01:00.000Z')
})

t.test('instants, dates and Graph output', async (t) => {
  t.equal(toInstant('2026-03-10T14:30:00.000+0000', 'x'), '2026-03-10T14:30:00.000Z')
  t.equal(toInstant(1773151200000, 'x'), '2026-03-10T14:00:00.000Z')
  t.same(instantToGraphDateTime('2026-03-10T14:30:00.120Z'), { dateTime: '2026-03-10T14:30:00.1200000', timeZone: 'UTC' })
  t.equal(writtenDate('2026-03-05T00:00:00-08:00', 'd'), '2026-03-05', 'the written date, not shifted')
  t.equal(writtenDate(Date.UTC(2026, 2, 5), 'd'), '2026-03-05')
  t.equal(addDays('2026-03-28', 2), '2026-03-30')
  t.equal(daysBetween('2026-03-28', '2026-03-30'), 2, 'a DST change does not bend a day count')
})
