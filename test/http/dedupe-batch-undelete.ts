// /dedupe/batch when a Salesforce record was deleted (and the delete synced), then restored and edited, and both the
// UNDELETE and the UPDATE come in one batch: the update alone would meet a tombstoned pair, so the restore is written
// first and the update waits for it (undeleteFirst). Both are claimed in one store call: run on memory and on Redis.
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'

const changeEvent = (changeType: string, recordId: string, sequenceNumber: number, time: string, fields: Record<string, unknown> = {}) => ({
  changeEvent: {
    ChangeEventHeader: {
      entityName: 'Event',
      recordIds: [recordId],
      changeType,
      changeOrigin: 'com/salesforce/api/rest/62.0',
      transactionKey: `tx-${recordId}`,
      sequenceNumber,
      commitTimestamp: Date.parse(`2026-03-09T${time}Z`),
      commitUser: '0055g0000012345AAA',
      nulledFields: [],
      diffFields: [],
      changedFields: [],
    },
    LastModifiedDate: `2026-03-09T${time}Z`,
    ...fields,
  },
})

export async function batchUndeleteScenario(t: Test, app: FastifyInstance): Promise<void> {
  const post = async (url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, payload })
    t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 120)}`)
    return res.json()
  }
  const decisions = (answer: { results: Array<{ decision: string }> }) => answer.results.map((result) => result.decision)
  const deleted = await post('/dedupe', changeEvent('DELETE', '00UREST', 1, '09:00:00'))
  await post('/dedupe/commit', { system: 'salesforce', itemId: '00UREST', token: deleted.claim.token })

  const undeleteThenUpdate = [changeEvent('UNDELETE', '00UREST', 2, '11:00:00', { Subject: 'back' }), changeEvent('UPDATE', '00UREST', 3, '11:05:00', { Subject: 'edited' })]
  const first = await post('/dedupe/batch', { events: undeleteThenUpdate })
  t.same(decisions(first), ['process', 'in_flight'], 'the restore is written first')
  t.match(first.results[1].reason, /undeletes the item/)
  t.ok(first.results[1].retryAfterMs > 0)
  await post('/dedupe/commit', { system: 'salesforce', itemId: '00UREST', token: first.results[0].claim.token })
  t.same(decisions(await post('/dedupe/batch', { events: undeleteThenUpdate })), ['duplicate', 'process'], 'sent again, the update is decided as it would be alone')

  // released unwritten, the undelete is sent again with the update: the restore first once more
  const deletedThree = await post('/dedupe', changeEvent('DELETE', '00UREST3', 1, '09:00:00'))
  await post('/dedupe/commit', { system: 'salesforce', itemId: '00UREST3', token: deletedThree.claim.token })
  const restoreAndEdit = [changeEvent('UNDELETE', '00UREST3', 2, '11:00:00'), changeEvent('UPDATE', '00UREST3', 3, '11:05:00')]
  const held = await post('/dedupe/batch', { events: restoreAndEdit })
  t.match(held.results[1].reason, /together with the undelete/, 'the update is told to come back with the undelete')
  await post('/dedupe/release', { system: 'salesforce', itemId: '00UREST3', token: held.results[0].claim.token })
  t.same(decisions(await post('/dedupe/batch', { events: restoreAndEdit })), ['process', 'in_flight'])

  // an undated change above the undelete finds the item deleted: it waits for the restore too, not stale
  const explicit = (version: string, changeType: string, modifiedAt?: number) => ({ system: 'salesforce', itemId: '00UREST4', version, changeType, modifiedAt })
  const gone = await post('/dedupe', explicit('d1', 'deleted', 1_000))
  await post('/dedupe/commit', { system: 'salesforce', itemId: '00UREST4', token: gone.claim.token })
  const undated = await post('/dedupe/batch', { events: [{ ...explicit('u1', 'undeleted', 2_000), leaseMs: 5_000 }, explicit('e1', 'updated')] })
  t.same(decisions(undated), ['process', 'in_flight'])
  t.match(undated.results[1], { reason: /undeletes the item/, retryAfterMs: 5_000 }, 'as long as the restore\'s claim')

  // a gap event below the undelete is covered by its claim: the batch delivered again writes nothing twice
  const deletedFive = await post('/dedupe', changeEvent('DELETE', '00UREST5', 1, '09:00:00'))
  await post('/dedupe/commit', { system: 'salesforce', itemId: '00UREST5', token: deletedFive.claim.token })
  const withGap = [changeEvent('GAP_UPDATE', '00UREST5', 2, '10:00:00'), changeEvent('UNDELETE', '00UREST5', 3, '11:00:00'), changeEvent('UPDATE', '00UREST5', 4, '11:05:00')]
  const gapFirst = await post('/dedupe/batch', { events: withGap })
  t.same(decisions(gapFirst), ['superseded', 'process', 'in_flight'])
  await post('/dedupe/commit', { system: 'salesforce', itemId: '00UREST5', token: gapFirst.results[1].claim.token })
  const gapThen = await post('/dedupe/batch', { events: withGap })
  t.same(decisions(gapThen), ['duplicate', 'duplicate', 'process'])
  await post('/dedupe/commit', { system: 'salesforce', itemId: '00UREST5', token: gapThen.results[2].claim.token })
  t.same(decisions(await post('/dedupe/batch', { events: withGap })), ['duplicate', 'duplicate', 'duplicate'], 'nothing is written twice')

  // an undelete below a newer delete is superseded as before: the item ends deleted
  const undeleteThenDelete = [changeEvent('UNDELETE', '00UREST2', 1, '11:00:00'), changeEvent('DELETE', '00UREST2', 2, '11:05:00')]
  t.same(decisions(await post('/dedupe/batch', { events: undeleteThenDelete })), ['superseded', 'process'])
}
