// /dedupe/batch when an item's newest event (by position, for undated Graph notifications) is a replay of a version
// already committed: the newer change beside it must still be decided. Run on memory and on Redis.
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'

const notification = (itemId: string, changeKey: string, changeType = 'updated') => ({
  subscriptionId: 'sub-1',
  changeType,
  tenantId: 'tenant-1',
  clientState: 'secret',
  resource: `Users/u1/Events/${itemId}`,
  resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': `Users/u1/Events/${itemId}`, '@odata.etag': `W/"${changeKey}"`, id: itemId },
})

export async function batchReplayScenario(t: Test, app: FastifyInstance): Promise<void> {
  const post = async (url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, payload })
    t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 120)}`)
    return res.json()
  }
  const commitFirst = async (itemId: string, changeKey: string) => {
    const claim = await post('/dedupe', { notification: notification(itemId, changeKey) })
    await post('/dedupe/commit', { system: 'outlook', itemId, token: claim.claim.token })
  }
  await commitFirst('R1', 'k1')
  await commitFirst('R2', 'k1')
  await commitFirst('R3', 'k1')

  const { results } = await post('/dedupe/batch', {
    events: [
      // R1: the new change, then a replay of k1 (Event Hubs delivers at least once)
      { notification: notification('R1', 'k2') },
      { notification: notification('R1', 'k1') },
      // R2: two new changes, then the replay: the newer of the two is decided
      { notification: notification('R2', 'k2') },
      { notification: notification('R2', 'k3') },
      { notification: notification('R2', 'k1') },
      // R3: only resends of one committed version: decided once, the others superseded by it
      { notification: notification('R3', 'k1') },
      { notification: notification('R3', 'k1') },
    ],
  })
  const decisions = results.map((result: { decision: string }) => result.decision)
  t.same(decisions.slice(0, 2), ['process', 'duplicate'], 'the replay does not hide the newer change')
  t.same(decisions.slice(2, 5), ['superseded', 'process', 'duplicate'], 'the next newest is decided; older ones stay superseded')
  t.same(decisions.slice(5), ['superseded', 'duplicate'])

  // why was my event dropped? The item's record answers for superseded events too
  const historyOf = async (itemId: string) => {
    const res = await app.inject({ method: 'GET', url: `/dedupe/outlook/${itemId}` })
    return res.json().history.map((entry: { decision: string; version: string }) => `${entry.decision} ${entry.version}`)
  }
  t.same((await historyOf('R2')).slice(0, 4), ['process k3', 'superseded k2', 'duplicate k1', 'committed k1'], 'R2: k2 superseded by the decision on k3')
  const r2Superseded = (await app.inject({ method: 'GET', url: '/dedupe/outlook/R2' })).json().history[1]
  t.match(r2Superseded.reason, /newer event for the same item is in this batch/)
  // R1's newest by position, k1, was a duplicate with k2 below it: recorded only by k2's own decision, which has none below
  t.same((await historyOf('R1')).slice(0, 3), ['process k2', 'duplicate k1', 'committed k1'], 'a duplicate decision records no superseded events')

  // the granted claim commits, and the change is then a duplicate like any other
  await post('/dedupe/commit', { system: 'outlook', itemId: 'R1', token: results[0].claim.token })
  t.equal((await post('/dedupe', { notification: notification('R1', 'k2') })).decision, 'duplicate')

  // the decided event's commit covers the older events of its item in the batch, so the batch delivered again
  // processes nothing, though Graph notifications carry no modifiedAt to order them by
  await post('/dedupe/commit', { system: 'outlook', itemId: 'R2', token: results[3].claim.token })
  const r2Again = await post('/dedupe/batch', { events: ['k2', 'k3', 'k1'].map((changeKey) => ({ notification: notification('R2', changeKey) })) })
  t.same(r2Again.results.map((result: { decision: string }) => result.decision), ['duplicate', 'duplicate', 'duplicate'], 'the batch again: k2 was covered by the commit of k3')
  const burst = ['b1', 'b2', 'b3'].map((changeKey) => ({ notification: notification('R9', changeKey) }))
  const firstBurst = await post('/dedupe/batch', { events: burst })
  t.same(firstBurst.results.map((result: { decision: string }) => result.decision), ['superseded', 'superseded', 'process'])
  // a failed write: the release frees the item and its claim covered nothing
  await post('/dedupe/release', { system: 'outlook', itemId: 'R9', token: firstBurst.results[2].claim.token })
  const retried = await post('/dedupe/batch', { events: burst })
  t.same(retried.results.map((result: { decision: string }) => result.decision), ['superseded', 'superseded', 'process'], 'after a release the burst is decided again')
  await post('/dedupe/commit', { system: 'outlook', itemId: 'R9', token: retried.results[2].claim.token })
  const redelivered = await post('/dedupe/batch', { events: burst })
  t.same(redelivered.results.map((result: { decision: string }) => result.decision), ['duplicate', 'duplicate', 'duplicate'], 'after the commit the burst is all duplicates')
  t.equal((await post('/dedupe', { notification: notification('R9', 'b1') })).decision, 'duplicate', 'and so is a single delivery of a covered version')

  // an update's write does not carry a delete: the delete below it stays to be decided
  const mixedKinds = await post('/dedupe/batch', { events: [{ notification: notification('R11', 'kD', 'deleted') }, { notification: notification('R11', 'k1') }] })
  t.same(mixedKinds.results.map((result: { decision: string }) => result.decision), ['superseded', 'process'])
  await post('/dedupe/commit', { system: 'outlook', itemId: 'R11', token: mixedKinds.results[1].claim.token })
  t.equal((await post('/dedupe', { notification: notification('R11', 'kD', 'deleted') })).decision, 'process', 'the delete alone is not covered')

  // many resends of one committed version after the change cost one more decision, not one each
  await commitFirst('R4', 'k1')
  const many = await post('/dedupe/batch', { events: [{ notification: notification('R4', 'k2') }, ...Array.from({ length: 50 }, () => ({ notification: notification('R4', 'k1') }))] })
  const manyDecisions = many.results.map((result: { decision: string }) => result.decision)
  t.same(manyDecisions.slice(0, 1), ['process'], 'the change behind 50 resends is decided')
  t.equal(manyDecisions.filter((decision: string) => decision === 'duplicate').length, 1, 'the resent version is decided once')
  t.equal(manyDecisions.filter((decision: string) => decision === 'superseded').length, 49)
  const history = (await app.inject({ method: 'GET', url: '/dedupe/outlook/R4' })).json().history
  t.same(history.slice(0, 2).map((entry: { decision: string }) => entry.decision), ['process', 'duplicate'], 'and the history holds no run of duplicates')

  // a change behind nine distinct committed versions is still found
  for (let i = 1; i <= 9; i++) await commitFirst('R6', `old${i}`)
  const nine = await post('/dedupe/batch', { events: [{ notification: notification('R6', 'new') }, ...Array.from({ length: 9 }, (_, i) => ({ notification: notification('R6', `old${i + 1}`) }))] })
  t.same(nine.results.map((result: { decision: string }) => result.decision), ['process', ...Array(9).fill('duplicate')])

  // mixed forms of one item: an undated duplicate does not hide a dated change, nor a dated duplicate an undated one
  const explicit = (itemId: string, version: string, modifiedAt?: number) => ({ system: 'outlook', itemId, version, ...(modifiedAt === undefined ? {} : { modifiedAt }) })
  const v1 = await post('/dedupe', explicit('R7', 'v1'))
  await post('/dedupe/commit', { system: 'outlook', itemId: 'R7', token: v1.claim.token })
  const mixedA = await post('/dedupe/batch', { events: [explicit('R7', 'v2', 2_000), explicit('R7', 'v1')] })
  t.same(mixedA.results.map((result: { decision: string }) => result.decision), ['process', 'duplicate'], 'dated change below an undated duplicate')
  const d1 = await post('/dedupe', explicit('R8', 'd1', 1_000))
  await post('/dedupe/commit', { system: 'outlook', itemId: 'R8', token: d1.claim.token })
  const mixedB = await post('/dedupe/batch', { events: [explicit('R8', 'u2'), explicit('R8', 'd1', 1_000)] })
  t.same(mixedB.results.map((result: { decision: string }) => result.decision), ['process', 'duplicate'], 'undated change below a dated duplicate')

  // dated events (Salesforce): the order is known, so an event below a duplicate is no newer and stays superseded,
  // and a batch delivered again after its newest event was committed decides nothing twice
  const dated = (version: string) => ({ system: 'salesforce', itemId: 'R5', version, modifiedAt: '2026-03-09T09:30:05.000Z', changeType: 'updated' })
  const first = await post('/dedupe/batch', { events: [dated('tx1:1'), dated('tx2:1')] })
  t.same(first.results.map((result: { decision: string }) => result.decision), ['superseded', 'process'], 'same second: the later position is newest')
  await post('/dedupe/commit', { system: 'salesforce', itemId: 'R5', token: first.results[1].claim.token })
  const again = await post('/dedupe/batch', { events: [dated('tx1:1'), dated('tx2:1')] })
  t.same(again.results.map((result: { decision: string }) => result.decision), ['superseded', 'duplicate'], 'the older event is not written over the newer state')
}
