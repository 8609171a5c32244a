// Why a flow writes a resolution's counterpart first and the source's own item last (mule-examples, the simulator):
// when the second write fails and the change comes back, only that order lets /correlate see both sides changed.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildTestApp } from '../support/app.js'

type Json = Record<string, any>

const BASE = { subject: 'Budget review', start: '2026-03-10T15:00:00.000Z', end: '2026-03-10T16:00:00.000Z', location: 'Room 4' }
const OUTLOOK_EDIT = { ...BASE, subject: 'Budget review (final)' } // a person in Outlook
const SALESFORCE_EDIT = { ...BASE, location: 'Room 7' } // a person in Salesforce, meanwhile
const MERGED = { ...BASE, subject: 'Budget review (final)', location: 'Room 7' }

t.test('a resolution from an Outlook change whose second write failed: the redelivered change resolves again only when the source was written last', async (t) => {
  const { app } = await buildTestApp(t)
  const post = async (url: string, payload: object) => (await app.inject({ method: 'POST', url, payload })).json() as Json
  const linkedPair = async () => {
    const pair = { outlook: `AAMk=${randomUUID()}`, salesforce: `00U${randomUUID().replaceAll('-', '').slice(0, 15)}` }
    const linked = await post('/correlate/confirm', {
      source: { system: 'outlook', itemId: pair.outlook },
      target: { system: 'salesforce', itemId: pair.salesforce },
      written: { fields: BASE },
      baseline: BASE,
    })
    t.equal(linked.linked, true)
    return pair
  }
  // One half of the resolution landed and was confirmed with the written fields and no baseline (the baseline moves
  // with the last write's confirm); the other write then failed, and the Outlook change comes back.
  const halfWritten = (pair: { outlook: string; salesforce: string }, into: 'outlook' | 'salesforce') =>
    post('/correlate/confirm', {
      source: { system: into === 'outlook' ? 'salesforce' : 'outlook', itemId: into === 'outlook' ? pair.salesforce : pair.outlook },
      target: { system: into, itemId: pair[into] },
      written: { fields: MERGED },
    })
  const redelivered = (pair: { outlook: string; salesforce: string }, outlook: object, salesforce: object) =>
    post('/correlate', { system: 'outlook', itemId: pair.outlook, changeType: 'updated', fields: outlook, targetFields: salesforce })

  const sourceFirst = await linkedPair()
  await halfWritten(sourceFirst, 'outlook')
  const lost = await redelivered(sourceFirst, MERGED, SALESFORCE_EDIT)
  t.match(lost, { action: 'skip', reason: 'echo' }, 'source written first: the Outlook item holds our write, an echo, and Salesforce never gets the new subject')

  const counterpartFirst = await linkedPair()
  await halfWritten(counterpartFirst, 'salesforce')
  const again = await redelivered(counterpartFirst, OUTLOOK_EDIT, MERGED)
  t.match(again, { action: 'resolve', reason: 'both_changed' }, 'counterpart written first: Salesforce moved from the baseline, so the change resolves again')
  const resolution = await post('/resolve-conflict', { outlook: { fields: OUTLOOK_EDIT }, salesforce: { fields: MERGED }, base: again.baseline })
  t.same(resolution.merged, { ...MERGED, isAllDay: false }, 'and the merge is the one the failed resolution meant')
  t.same(Object.keys(resolution.writes), ['outlook'], 'only Outlook still needs its write')
})
