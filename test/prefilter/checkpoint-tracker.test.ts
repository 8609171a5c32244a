// The checkpoint rule: the candidate moves to event N only when every notification of events <= N settled.
import t from 'tap'
import { PartitionTracker } from '../../src/prefilter/checkpoint-tracker.js'

t.test('settling out of order moves the candidate only over a settled prefix', async (t) => {
  const tracker = new PartitionTracker()
  const a = tracker.addEvent(10, '1000', 2)
  const b = tracker.addEvent(11, '1100', 1)
  const c = tracker.addEvent(12, '1200', 1)
  t.equal(tracker.candidate, undefined)
  t.equal(tracker.settle(c), false, 'the last event alone moves nothing')
  t.equal(tracker.settle(a), false, 'half of the first event moves nothing')
  t.equal(tracker.settle(a), true)
  t.same(tracker.candidate, { sequenceNumber: 10, offset: '1000' })
  t.equal(tracker.settle(b), true)
  t.same(tracker.candidate, { sequenceNumber: 12, offset: '1200' }, 'b unblocks c, settled earlier')
  t.equal(tracker.unsettledEvents, 0)
})

t.test('events without pending notifications settle at once behind the head', async (t) => {
  const tracker = new PartitionTracker()
  const a = tracker.addEvent(0, '0', 1)
  tracker.addEvent(1, '50', 0)
  t.equal(tracker.candidate, undefined, 'still behind event 0')
  tracker.settle(a)
  t.same(tracker.candidate, { sequenceNumber: 1, offset: '50' })
  tracker.addEvent(2, '90', 0)
  t.same(tracker.candidate, { sequenceNumber: 2, offset: '90' })
})

t.test('written positions and lag', async (t) => {
  const tracker = new PartitionTracker()
  t.equal(tracker.lag, 0)
  const a = tracker.addEvent(5, '5', 1)
  tracker.addEvent(6, '6', 0)
  t.equal(tracker.lag, 2)
  t.equal(tracker.unwritten(), undefined)
  tracker.settle(a)
  const next = tracker.unwritten()
  t.same(next, { sequenceNumber: 6, offset: '6' })
  tracker.markWritten(next!)
  t.equal(tracker.unwritten(), undefined)
  t.equal(tracker.lag, 0)
  tracker.markWritten({ sequenceNumber: 3, offset: '3' })
  t.same(tracker.lastWritten, { sequenceNumber: 6, offset: '6' }, 'never moves back')
})

t.test('many events stay cheap (the queue compacts)', async (t) => {
  const tracker = new PartitionTracker()
  for (let i = 0; i < 10_000; i++) tracker.settle(tracker.addEvent(i, String(i), 1))
  t.same(tracker.candidate, { sequenceNumber: 9_999, offset: '9999' })
  t.equal(tracker.unsettledEvents, 0)
})
