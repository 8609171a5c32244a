// The CorrelateStore contract: one suite, run unchanged against the memory store and the Redis store.
import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { deriveCreateKey } from '../../src/domain/correlate-key.js'
import { fingerprintFields } from '../../src/domain/fingerprint.js'
import { DELETE_MARK_MIN_TTL_MS, RESERVATION_GRACE_MS, type ConfirmInput, type CorrelateStore, type DecideInput, type ItemRef } from '../../src/stores/correlate-store.js'

const T0 = Date.UTC(2026, 2, 9, 9, 0, 0)
const LEASE = 60_000
const WINDOW = 600_000
const TOMBSTONE_TTL = 7 * 24 * 3600_000

let counter = 0
const uniq = (prefix: string) => `${prefix}-${++counter}-${randomUUID().slice(0, 8)}`

export function runCorrelateContract(t: Test, store: () => CorrelateStore): void {
  const tenant = uniq('tenant')
  const outlook = (itemId = uniq('AAMk')): ItemRef => ({ system: 'outlook', itemId })
  const salesforce = (itemId = uniq('00U')): ItemRef => ({ system: 'salesforce', itemId })

  const decide = (ref: ItemRef, over: Partial<DecideInput> = {}) =>
    store().decide({
      tenant,
      ...ref,
      changeType: 'updated',
      echoBySource: false,
      token: randomUUID(),
      createKey: `ck-${ref.itemId}`,
      leaseMs: LEASE,
      createKeyTtlMs: TOMBSTONE_TTL,
      echoWindowMs: WINDOW,
      now: T0,
      ...over,
    })
  const confirm = (source: ItemRef, target: ItemRef, over: Partial<ConfirmInput> = {}) =>
    store().confirm({ tenant, source, target, now: T0, echoWindowMs: WINDOW, tombstoneTtlMs: TOMBSTONE_TTL, ...over })

  /** A pair linked the way a flow links it: create, write, confirm. */
  const linkPair = async (over: Partial<ConfirmInput> = {}) => {
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created' })
    await confirm(o, s, { reservationToken: created.reservation?.token, ...over })
    return { o, s }
  }

  t.test('the first change of an unlinked item gets create with a reservation', async (t) => {
    const o = outlook()
    const result = await decide(o, { changeType: 'created', token: 'tok-1', createKey: 'ck-1' })
    t.same(result, {
      action: 'create',
      reason: 'new_item',
      target: { system: 'salesforce', itemId: null },
      reservation: { token: 'tok-1', expiresAt: T0 + LEASE, createKey: 'ck-1' },
    })
    t.equal(await store().getLink(tenant, o, T0), null, 'a reservation is no link')
  })

  t.test('a concurrent change waits for the reservation; after it lapses the next one creates again', async (t) => {
    const s = salesforce()
    await decide(s, { changeType: 'created' })
    const second = await decide(s, { now: T0 + 1_000 })
    t.equal(second.action, 'skip')
    t.equal(second.reason, 'create_in_flight')
    t.equal(second.retryAfterMs, LEASE - 1_000)
    t.same(second.target, { system: 'outlook', itemId: null })
    t.notOk(second.reservation)
    const deleted = await decide(s, { changeType: 'deleted', now: T0 + 2_000 })
    t.equal(deleted.reason, 'create_in_flight', 'a delete during a create waits too: after the confirm it deletes the copy')
    const after = await decide(s, { now: T0 + LEASE, token: 'tok-again' })
    t.equal(after.action, 'create', 'a lapsed reservation leaves the item unlinked')
    t.equal(after.reservation?.token, 'tok-again')
    t.equal(after.reservation?.expiresAt, T0 + 2 * LEASE)
  })

  t.test('the claim that took a reservation gets it again while it lives; another claim waits', async (t) => {
    const s = salesforce()
    const first = await decide(s, { changeType: 'created', token: 'tok-first', claimToken: 'claim-1' })
    t.equal(first.action, 'create')
    // Its answer was lost: the same claim asks again, and gets the same reservation.
    const again = await decide(s, { changeType: 'created', token: 'tok-unused', claimToken: 'claim-1', now: T0 + 5_000 })
    t.same([again.action, again.reason], ['create', 'new_item'])
    t.same(again.reservation, first.reservation, 'the same token, expiresAt and createKey')
    t.same(again.target, { system: 'outlook', itemId: null })
    const other = await decide(s, { claimToken: 'claim-2', now: T0 + 6_000 })
    t.same([other.action, other.reason, other.retryAfterMs], ['skip', 'create_in_flight', LEASE - 6_000], 'another claim waits')
    const none = await decide(s, { now: T0 + 6_000 })
    t.equal(none.reason, 'create_in_flight', 'so does a request without a claimToken')
    const deleted = await decide(s, { changeType: 'deleted', claimToken: 'claim-1', now: T0 + 6_000 })
    t.same([deleted.action, deleted.reason], ['skip', 'create_in_flight'], 'the same claim with a delete is no create: it waits')
    const occurrence = await decide(s, { role: 'occurrence', claimToken: 'claim-1', now: T0 + 6_000 })
    t.same([occurrence.action, occurrence.reason], ['skip', 'create_in_flight'], 'nor with an occurrence')
    const halfway = await decide(s, { changeType: 'created', claimToken: 'claim-1', now: T0 + LEASE / 2 })
    t.equal(halfway.action, 'create', 'with half the lease left it still gets it')
    const late = await decide(s, { changeType: 'created', claimToken: 'claim-1', now: T0 + LEASE / 2 + 1 })
    t.same([late.action, late.reason, late.retryAfterMs], ['skip', 'create_in_flight', LEASE / 2 - 1], 'with less, a write begun now could outlast it: it waits')
    const after = await decide(s, { claimToken: 'claim-1', token: 'tok-late', now: T0 + LEASE })
    t.equal(after.reservation?.token, 'tok-late', 'after the lease a new reservation, even for the same claim')
    t.equal(after.reservation?.expiresAt, T0 + 2 * LEASE)
  })

  t.test('the same claim asking again writes what it sends now: the copy holding that is our echo', async (t) => {
    const older = { subject: 'Draft' }
    const newer = { subject: 'Final' }
    const o = outlook()
    const s = salesforce()
    await decide(o, { changeType: 'created', fingerprint: fingerprintFields(older), state: older, claimToken: 'claim-o' })
    const again = await decide(o, { changeType: 'created', fingerprint: fingerprintFields(newer), state: newer, claimToken: 'claim-o', now: T0 + 1_000 })
    t.equal(again.action, 'create')
    const back = await decide(s, { changeType: 'created', counterpartHint: o, fingerprint: fingerprintFields(newer), now: T0 + 2_000 })
    t.same([back.action, back.reason], ['skip', 'echo'], 'the copy holds what the second answer was asked with')
    t.same(back.link?.baseline, newer)
  })

  t.test('a resolution\'s create replacing a gone counterpart (replaces) relinks the source and tombstones the old item', async (t) => {
    const { o, s } = await linkPair({ baseline: { subject: 'A' } })
    const s2 = salesforce()
    // without replaces: refused, the source is linked to s
    t.match(await confirm(o, s2, { now: T0 + 1 }), { linked: false, reason: 'conflicting_link' })
    const relinked = await confirm(o, s2, { replaces: s, baseline: { subject: 'B' }, now: T0 + 2 })
    t.equal(relinked.linked, true)
    t.match(await store().getLink(tenant, o, T0 + 2), { state: 'linked', salesforce: s2.itemId, baseline: { subject: 'B' } })
    t.match(await store().getLink(tenant, s2, T0 + 2), { state: 'linked', outlook: o.itemId })
    t.match(await store().getLink(tenant, s, T0 + 2), { state: 'tombstoned', outlook: o.itemId }, 'the replaced item is tombstoned')
    t.match(await decide(s, { changeType: 'deleted', now: T0 + 3 }), { action: 'skip', reason: 'tombstoned' }, 'its delete does not reach the source')
    t.match(await decide(s, { now: T0 + 3 }), { action: 'skip', reason: 'tombstoned' }, 'nor a late change of it')
    t.equal((await confirm(o, s2, { replaces: s, baseline: { subject: 'B' }, now: T0 + 4 })).linked, true, 'a repeat changes nothing')
    t.match(await store().getLink(tenant, s, T0 + 4), { state: 'tombstoned', outlook: o.itemId })
    t.match(await confirm(o, salesforce(), { replaces: s, now: T0 + 5 }), { linked: false, reason: 'conflicting_link' }, 'once relinked, the old item is no longer the counterpart it names')
    const restored = await decide(s, { changeType: 'undeleted', now: T0 + 6 })
    t.match(restored, { action: 'skip', reason: 'replaced', target: { itemId: o.itemId }, link: { state: 'tombstoned' } }, 'restored: a second copy of a meeting that lives on as s2, for a person')
    t.match(await decide(s, { changeType: 'undeleted', now: T0 + 7 }), { reason: 'replaced' }, 'and so it stays while the tombstone lasts')
    const later = await decide(s, { now: T0 + 2 + TOMBSTONE_TTL })
    t.equal(later.reservation?.createKey, `ck-${s.itemId}-${T0 + 2}`, 'after it, the replaced item\'s next copy gets a createKey of its own, as after any delete')
    // once the pair that lived on is deleted too, the restored item is the meeting's only copy: created anew
    const gone = await linkPair()
    const gone2 = salesforce()
    await confirm(gone.o, gone2, { replaces: gone.s, baseline: { subject: 'B' }, now: T0 + 2 })
    await confirm(gone.o, gone2, { deleted: true, now: T0 + 3 })
    t.match(await decide(gone.s, { changeType: 'undeleted', now: T0 + 4 }), { action: 'create', reason: 'new_item' }, 'no pair to be a second copy of')

    // a tombstoned target is refused before anything is relinked
    const dead = await linkPair()
    const deadTarget = await linkPair()
    await confirm(deadTarget.o, deadTarget.s, { deleted: true, now: T0 + 6 })
    t.match(await confirm(dead.o, deadTarget.s, { replaces: dead.s, now: T0 + 7 }), { linked: false, reason: 'conflicting_link' })
    t.match(await store().getLink(tenant, dead.s, T0 + 7), { state: 'linked', outlook: dead.o.itemId }, 'the replaced item keeps its link')

    const other = await linkPair()
    t.match(await confirm(other.o, salesforce(), { replaces: salesforce(), now: T0 + 6 }), { linked: false, reason: 'conflicting_link' }, 'replaces naming another item than the counterpart changes nothing')
    t.match(await store().getLink(tenant, other.o, T0 + 6), { state: 'linked', salesforce: other.s.itemId })
  })

  t.test('a delete of an unlinked item is skip / no_link_for_delete', async (t) => {
    const result = await decide(outlook(), { changeType: 'deleted' })
    t.same(result, { action: 'skip', reason: 'no_link_for_delete', target: { system: 'salesforce', itemId: null } })
  })

  t.test('20 concurrent decides for one new item give exactly one create', async (t) => {
    const o = outlook()
    const results = await Promise.all(Array.from({ length: 20 }, () => decide(o, { changeType: 'created' })))
    t.equal(results.filter((r) => r.action === 'create').length, 1)
    t.equal(results.filter((r) => r.reason === 'create_in_flight').length, 19)
  })

  t.test('confirm links both ways with the baseline and times', async (t) => {
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created' })
    const baseline = { subject: 'Quarterly review', start: '2026-03-10T15:00:00.000Z' }
    const result = await confirm(o, s, { reservationToken: created.reservation?.token, baseline, now: T0 + 500 })
    const link = { tenant, outlook: o.itemId, salesforce: s.itemId, state: 'linked', baseline, roles: {}, linkedAt: T0 + 500, updatedAt: T0 + 500 }
    t.same(result, { linked: true, link })
    t.same(await store().getLink(tenant, o, T0 + 600), link, 'found from the outlook id')
    t.same(await store().getLink(tenant, s, T0 + 600), link, 'found from the salesforce id')

    const update = await decide(o, { now: T0 + 1_000, fingerprint: 'fp-new' })
    t.equal(update.action, 'update')
    t.equal(update.reason, 'linked')
    t.same(update.target, { system: 'salesforce', itemId: s.itemId })
    t.same(update.link?.baseline, baseline)
    const fromOther = await decide(s, { now: T0 + 1_000 })
    t.same([fromOther.action, fromOther.target], ['update', { system: 'outlook', itemId: o.itemId }])
  })

  t.test('the same confirm twice changes nothing', async (t) => {
    const o = outlook()
    const s = salesforce()
    await decide(o, { changeType: 'created' })
    const input = { baseline: { subject: 'a' }, writtenFingerprint: 'fp-a' }
    const first = await confirm(o, s, input)
    const second = await confirm(o, s, { ...input, now: T0 + 5_000 })
    t.same(second, first)
    t.same(await store().getLink(tenant, o, T0 + 5_000), first.link)
  })

  t.test('a confirm with source and target swapped updates the same link', async (t) => {
    const { o, s } = await linkPair({ baseline: { subject: 'one' } })
    const swapped = await confirm(s, o, { baseline: { subject: 'two' }, now: T0 + 10_000 })
    t.equal(swapped.linked, true)
    t.same([swapped.link.outlook, swapped.link.salesforce], [o.itemId, s.itemId])
    t.same(swapped.link.baseline, { subject: 'two' })
    t.equal(swapped.link.linkedAt, T0, 'still the same link')
    t.equal(swapped.link.updatedAt, T0 + 10_000)
    t.same((await store().getLink(tenant, o, T0 + 10_000))?.baseline, { subject: 'two' })
    const withoutBaseline = await confirm(o, s, { now: T0 + 11_000 })
    t.same(withoutBaseline.link.baseline, { subject: 'two' }, 'a confirm without baseline keeps the stored one')
  })

  t.test('a confirm links after its reservation lapsed, unless the source is linked elsewhere', async (t) => {
    const o = outlook()
    const s1 = salesforce()
    const first = await decide(o, { changeType: 'created' })
    const late = await confirm(o, s1, { reservationToken: first.reservation?.token, now: T0 + 10 * LEASE })
    t.equal(late.linked, true, 'lapsed but nobody linked the source since')

    const s2 = salesforce()
    const conflicting = await confirm(o, s2, { now: T0 + 11 * LEASE, baseline: { subject: 'x' } })
    t.same(conflicting, { linked: false, reason: 'conflicting_link', link: late.link })
    t.same(await store().getLink(tenant, o, T0 + 11 * LEASE), late.link, 'nothing changed')
    t.equal(await store().getLink(tenant, s2, T0 + 11 * LEASE), null)
    const otherWay = await confirm(outlook(), s1, { now: T0 + 11 * LEASE })
    t.equal(otherWay.linked, false, 'nor when the target is linked to a third item')
    t.equal(otherWay.linked === false && otherWay.reason, 'conflicting_link')
  })

  t.test('a refused confirm still records its write: the extra copy coming back is an echo, not a third copy', async (t) => {
    const { o, s } = await linkPair()
    const extra = salesforce()
    const refused = await confirm(o, extra, { writtenFingerprint: 'fp-extra', now: T0 + 1_000 })
    t.equal(refused.linked === false && refused.reason, 'conflicting_link')
    const back = await decide(extra, { changeType: 'created', fingerprint: 'fp-extra', now: T0 + 2_000 })
    t.same([back.action, back.reason], ['skip', 'echo'], 'the extra copy (which the flow deletes) is not created again')
    const edited = await decide(extra, { fingerprint: 'fp-edited', now: T0 + 3_000 })
    t.equal(edited.action, 'create', 'another state of it is a change, as for any unlinked item')
    await decide(s, { changeType: 'deleted', now: T0 + 4_000 })
    await confirm(s, o, { deleted: true, now: T0 + 5_000 })
    const late = salesforce()
    const tombstoned = await confirm(o, late, { writtenFingerprint: 'fp-late-copy', now: T0 + 6_000 })
    t.equal(tombstoned.linked === false && tombstoned.reason, 'tombstoned')
    const lateBack = await decide(late, { changeType: 'created', fingerprint: 'fp-late-copy', now: T0 + 7_000 })
    t.same([lateBack.action, lateBack.reason], ['skip', 'echo'], 'nor a copy written for a pair deleted meanwhile')
    // a target that belongs to another pair keeps no echo of the refused write: that pair must hear it changed
    const other = await linkPair()
    const intruder = outlook()
    const overwrote = await confirm(intruder, other.s, { writtenFingerprint: 'fp-overwrite', now: T0 + 8_000 })
    t.equal(overwrote.linked === false && overwrote.reason, 'conflicting_link')
    t.equal(overwrote.linked === false && overwrote.targetLinkedElsewhere, true, 'the answer says the target is another pair\'s')
    const heard = await decide(other.s, { fingerprint: 'fp-overwrite', now: T0 + 9_000 })
    t.same([heard.action, heard.target.itemId], ['update', other.o.itemId], "the pair's own side hears that its item was overwritten")
  })

  t.test('the echo ledger: a written fingerprint is an echo as often as it repeats inside the window', async (t) => {
    const { o, s } = await linkPair({ writtenFingerprint: 'fp-written' })
    for (const at of [1_000, 2_000, WINDOW - 1]) {
      const echo = await decide(s, { fingerprint: 'fp-written', now: T0 + at })
      t.same([echo.action, echo.reason, echo.target], ['skip', 'echo', { system: 'outlook', itemId: o.itemId }], `at +${at} ms`)
    }
    const notTheSource = await decide(o, { fingerprint: 'fp-written', now: T0 + 3_000 })
    t.equal(notTheSource.action, 'update', 'the ledger belongs to the item written into')
    const expired = await decide(s, { fingerprint: 'fp-written', now: T0 + WINDOW })
    t.equal(expired.action, 'update', 'after the window the same state is a real change')
  })

  t.test('a real edit inside the window is no echo, and afterwards the written state is no echo either', async (t) => {
    const { s } = await linkPair({ writtenFingerprint: 'fp-written' })
    const edit = await decide(s, { fingerprint: 'fp-person', now: T0 + 1_000 })
    t.same([edit.action, edit.reason], ['update', 'linked'])
    const back = await decide(s, { fingerprint: 'fp-written', now: T0 + 2_000 })
    t.equal(back.action, 'update', 'the person changed it back: a real edit')
    const noFields = await decide(s, { now: T0 + 3_000 })
    t.equal(noFields.action, 'update', 'without a fingerprint no ledger answers')
  })

  t.test('only the latest write into an item is its echo; the write it replaced is earlier_write for one lease, then an edit', async (t) => {
    // a flow's update (a non-echo decide with a state) clears the item's ledger, so each probe that is one gets a pair
    const twoWrites = async () => {
      const pair = await linkPair({ writtenFingerprint: 'fp-1' })
      await confirm(pair.o, pair.s, { writtenFingerprint: 'fp-2', now: T0 + 1_000 })
      await confirm(pair.o, pair.s, { writtenFingerprint: 'fp-2', now: T0 + 1_500 })
      return pair
    }
    const { o, s } = await twoWrites()
    for (const at of [2_000, 3_000]) {
      t.equal((await decide(s, { fingerprint: 'fp-2', now: T0 + at })).reason, 'echo', `the latest write, repeated at +${at} ms`)
    }
    // a read of fp-1 made before fp-2 landed, reaching /correlate after fp-2's confirm: read again, do not write it back
    const stale = await decide(s, { fingerprint: 'fp-1', now: T0 + 4_000 })
    t.same(
      [stale.action, stale.reason, stale.target.itemId, stale.retryAfterMs],
      ['skip', 'earlier_write', o.itemId, 1_000 + LEASE - 4_000],
      'until one lease after fp-2 replaced it (the repeated confirm did not move that)',
    )
    const reread = await decide(s, { fingerprint: 'fp-1', now: T0 + 4_000, reread: true })
    t.same([reread.action, reread.reason], ['update', 'linked'], 'read again after our latest write was confirmed: a person set it back')
    const { o: o2, s: s2 } = await twoWrites()
    t.equal((await decide(s2, { fingerprint: 'fp-1', now: T0 + 4_000 })).reason, 'earlier_write')
    const shortLease = await decide(s2, { fingerprint: 'fp-1', now: T0 + 4_000, leaseMs: 5_000 })
    t.same([shortLease.reason, shortLease.retryAfterMs], ['earlier_write', 2_000], 'the request\'s lease sets the wait')
    t.equal((await decide(s2, { fingerprint: 'fp-2', now: T0 + 5_000 })).reason, 'echo', 'the latest write still is the echo')
    t.equal((await decide(s2, { now: T0 + 5_000 })).reason, 'linked', 'without a state no ledger answers')
    t.equal((await decide(s2, { fingerprint: 'fp-2', now: T0 + 5_000 })).reason, 'echo', 'and a change without a state clears nothing')
    t.equal(o2.system, 'outlook')

    const later = await twoWrites()
    t.equal((await decide(later.s, { fingerprint: 'fp-1', now: T0 + 6_000, leaseMs: 5_000 })).reason, 'linked', 'past the request\'s lease, an edit')
    const back = await twoWrites()
    const settled = await decide(back.s, { fingerprint: 'fp-1', now: T0 + 1_000 + LEASE })
    t.same([settled.action, settled.reason, settled.target.itemId], ['update', 'linked', back.o.itemId], 'a person setting it back, once the lease passed')
    t.equal((await decide(back.s, { fingerprint: 'fp-2', now: T0 + 1_000 + LEASE })).reason, 'linked', 'that update cleared the ledger')
    await confirm(back.o, back.s, { writtenFingerprint: 'fp-1', now: T0 + 65_000 })
    t.equal((await decide(back.s, { fingerprint: 'fp-1', now: T0 + 66_000 })).reason, 'echo', 'written again, it is the echo again')
  })

  t.test('earlier_write: the write replaced counts only while it was live, and a person\'s change ends it', async (t) => {
    const expired = await linkPair({ writtenFingerprint: 'fp-1' })
    await confirm(expired.o, expired.s, { writtenFingerprint: 'fp-2', now: T0 + WINDOW + 1 })
    t.equal((await decide(expired.s, { fingerprint: 'fp-1', now: T0 + WINDOW + 2 })).reason, 'linked', 'fp-1 had left the window: no earlier write')

    const { o, s } = await linkPair({ writtenFingerprint: 'fp-1' })
    await confirm(o, s, { writtenFingerprint: 'fp-2', now: T0 + 10 })
    t.equal((await decide(s, { fingerprint: 'fp-1', now: T0 + 20 })).reason, 'earlier_write')
    t.equal((await decide(s, { changeType: 'deleted', now: T0 + 30 })).action, 'delete', 'a delete has no state: never earlier_write')
    t.equal((await decide(s, { fingerprint: 'fp-person', now: T0 + 40 })).reason, 'linked', 'a person\'s change')
    t.equal((await decide(s, { fingerprint: 'fp-1', now: T0 + 50 })).reason, 'linked', 'after it, the earlier write is an edit')

    const longLease = await linkPair({ writtenFingerprint: 'fp-1' })
    await confirm(longLease.o, longLease.s, { writtenFingerprint: 'fp-2', now: T0 + 10 })
    const late = await decide(longLease.s, { fingerprint: 'fp-1', now: T0 + 10 + WINDOW, leaseMs: 3_600_000 })
    t.equal(late.reason, 'linked', 'once the latest write left the window, the one it replaced counts for nothing either')
  })

  t.test('with a state the state decides: echoBySource is no echo once a person changed the item', async (t) => {
    const baseline = { subject: 'Weekly sync', start: '2026-03-10T15:00:00.000Z' }
    const { o, s } = await linkPair({ writtenFingerprint: 'fp-written', baseline })
    const ours = await decide(s, { echoBySource: true, fingerprint: 'fp-written', now: T0 + 1_000 })
    t.same([ours.action, ours.reason], ['skip', 'echo'], 'the state is what we wrote')
    const unchanged = await decide(s, { echoBySource: true, fingerprint: fingerprintFields(baseline), now: T0 + 1_000 })
    t.same([unchanged.action, unchanged.reason], ['skip', 'echo'], 'the state is the baseline: nothing new')
    const noState = await decide(s, { echoBySource: true, now: T0 + 1_000 })
    t.same([noState.action, noState.reason], ['skip', 'echo'], 'without a state the source signal decides alone')
    const moved = await decide(s, { echoBySource: true, fingerprint: 'fp-person', now: T0 + 2_000 })
    t.same([moved.action, moved.reason, moved.target], ['update', 'linked', { system: 'outlook', itemId: o.itemId }], 'our echo read after a person changed the item')
    t.same(moved.link?.baseline, baseline)
    const deleted = await decide(s, { echoBySource: true, changeType: 'deleted', fingerprint: 'fp-person', now: T0 + 3_000 })
    t.same([deleted.action, deleted.reason], ['skip', 'echo'], 'a delete has no state to judge: our own delete stays an echo')
  })

  t.test('a state equal to the stored baseline is an echo (nothing new), inside or after the window', async (t) => {
    const one = { subject: 'one' }
    const two = { subject: 'two' }
    const { o, s } = await linkPair({ baseline: one })
    for (const [ref, at] of [[s, 1_000], [o, 1_000], [s, 2 * WINDOW]] as const) {
      const same = await decide(ref, { fingerprint: fingerprintFields(one), now: T0 + at })
      t.same([same.action, same.reason], ['skip', 'echo'], `${ref.system} at +${at} ms`)
    }
    await confirm(s, o, { baseline: two, now: T0 + 3_000 })
    t.equal((await decide(s, { fingerprint: fingerprintFields(two), now: T0 + 4_000 })).reason, 'echo', 'the new baseline')
    t.equal((await decide(s, { fingerprint: fingerprintFields(one), now: T0 + 4_000 })).action, 'update', 'the old baseline is a change')
    await confirm(o, s, { now: T0 + 5_000 })
    t.equal((await decide(o, { fingerprint: fingerprintFields(two), now: T0 + 6_000 })).reason, 'echo', 'a confirm without baseline keeps it')
  })

  t.test('echoBySource is an echo, linked or not', async (t) => {
    const { s } = await linkPair()
    const linked = await decide(s, { echoBySource: true })
    t.same([linked.action, linked.reason], ['skip', 'echo'])
    const unlinked = await decide(salesforce(), { echoBySource: true, changeType: 'created' })
    t.same([unlinked.action, unlinked.reason, unlinked.target.itemId], ['skip', 'echo', null])
    const withState = await decide(salesforce(), { echoBySource: true, changeType: 'created', fingerprint: 'fp-any' })
    t.same([withState.action, withState.reason], ['skip', 'echo'], 'unlinked, no state of ours to compare with: the source signal decides')
  })

  t.test('a linked delete targets the counterpart; a deleted confirm tombstones the pair', async (t) => {
    const { o, s } = await linkPair({ baseline: { subject: 'gone soon' } })
    const del = await decide(o, { changeType: 'deleted', now: T0 + 1_000 })
    t.same([del.action, del.reason, del.target], ['delete', 'linked', { system: 'salesforce', itemId: s.itemId }])
    const tomb = await confirm(o, s, { deleted: true, now: T0 + 2_000 })
    t.equal(tomb.linked, false)
    t.same(tomb.link, {
      tenant,
      outlook: o.itemId,
      salesforce: s.itemId,
      state: 'tombstoned',
      baseline: { subject: 'gone soon' },
      roles: {},
      linkedAt: T0,
      updatedAt: T0 + 2_000,
    })
    t.same(await confirm(o, s, { deleted: true, now: T0 + 3_000 }), tomb, 'repeating it changes nothing')
    for (const [ref, changeType] of [[o, 'updated'], [s, 'updated'], [s, 'deleted'], [o, 'created']] as const) {
      const late = await decide(ref, { changeType, now: T0 + 5_000 })
      t.same([late.action, late.reason], ['skip', 'tombstoned'], `${ref.system} ${changeType}`)
    }
    t.equal((await store().getLink(tenant, s, T0 + 5_000))?.state, 'tombstoned')
    const lateConfirm = await confirm(s, o, { baseline: { subject: 'revived?' }, writtenFingerprint: 'fp-late', now: T0 + 6_000 })
    t.same(lateConfirm, { linked: false, reason: 'tombstoned', link: { ...tomb.link, outlook: o.itemId } }, 'a late confirm never revives the pair')
    t.equal((await decide(o, { fingerprint: 'fp-late', now: T0 + 7_000 })).reason, 'tombstoned')
    const elsewhere = await confirm(o, salesforce(), { now: T0 + 6_000 })
    t.same([elsewhere.linked, elsewhere.linked === false && elsewhere.reason], [false, 'tombstoned'], 'nor links a deleted item anew')
    const afterTtl = await decide(o, { now: T0 + 2_000 + TOMBSTONE_TTL })
    t.equal(afterTtl.action, 'create', 'a tombstone ends after its TTL')
  })

  t.test('an undelete after its pair was deleted creates a new counterpart; the old counterpart stays tombstoned', async (t) => {
    const { o, s } = await linkPair({ baseline: { subject: 'restored later' } })
    await decide(s, { changeType: 'deleted', now: T0 + 1_000 })
    await confirm(s, o, { deleted: true, now: T0 + 2_000 })
    t.equal((await decide(s, { changeType: 'updated', now: T0 + 3_000 })).reason, 'tombstoned', 'an update is still late')
    const restored = await decide(s, { changeType: 'undeleted', fingerprint: 'fp-restored', state: { subject: 'restored later' }, token: 'tok-undelete', now: T0 + 4_000 })
    t.same([restored.action, restored.reason, restored.target], ['create', 'new_item', { system: 'outlook', itemId: null }])
    t.equal(restored.reservation?.token, 'tok-undelete')
    t.equal(await store().getLink(tenant, s, T0 + 4_000), null, 'the restored item has no tombstone now')
    const oldCopy = await decide(o, { changeType: 'deleted', now: T0 + 4_500 })
    t.same([oldCopy.action, oldCopy.reason], ['skip', 'tombstoned'], "the old counterpart's late events are still skipped")
    const o2 = outlook()
    const relinked = await confirm(s, o2, { reservationToken: 'tok-undelete', baseline: { subject: 'restored later' }, now: T0 + 5_000 })
    t.equal(relinked.linked, true, 'the new copy links')
    t.equal((await store().getLink(tenant, s, T0 + 5_000))?.outlook, o2.itemId)
    const again = await decide(s, { changeType: 'undeleted', now: T0 + 6_000 })
    t.same([again.action, again.reason, again.target], ['update', 'linked', { system: 'outlook', itemId: o2.itemId }], 'an undelete of a linked item updates it')
    const fresh = salesforce()
    t.equal((await decide(fresh, { changeType: 'undeleted', now: T0 })).action, 'create', 'an undelete of an unknown item creates')
  })

  t.test('an undelete is created anew even as we last wrote it and stamped with its deleted counterpart', async (t) => {
    // we created S from O (the write is in S's echo ledger, S carries O's stamp); S is deleted, then restored at once
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created' })
    await confirm(o, s, { reservationToken: created.reservation?.token, writtenFingerprint: 'fp-as-written' })
    await decide(s, { changeType: 'deleted', now: T0 + 1_000 })
    await confirm(s, o, { deleted: true, now: T0 + 2_000 })
    const restored = await decide(s, { changeType: 'undeleted', fingerprint: 'fp-as-written', counterpartHint: o, token: 'tok-restore', now: T0 + 3_000 })
    t.same([restored.action, restored.reason], ['create', 'new_item'], 'not skip / echo (the ledger) nor skip / tombstoned (the stamp)')
    t.equal(restored.reservation?.token, 'tok-restore')
    // redelivered, or changed again while the copy is being made: it waits for that create, stamp or not
    const again = await decide(s, { changeType: 'undeleted', counterpartHint: o, now: T0 + 3_500 })
    t.same([again.action, again.reason], ['skip', 'create_in_flight'], 'the UNDELETE redelivered')
    const edited = await decide(s, { fingerprint: 'fp-edited', counterpartHint: o, now: T0 + 3_600 })
    t.same([edited.action, edited.reason], ['skip', 'create_in_flight'], 'a change of it with the old stamp')
    // the create failed and its reservation lapsed: the next delivery creates again
    const retried = await decide(s, { fingerprint: 'fp-edited', counterpartHint: o, token: 'tok-retry', now: T0 + 3_000 + LEASE })
    t.same([retried.action, retried.reason], ['create', 'new_item'], 'after the lapse, created again')
    const copy = outlook()
    t.equal((await confirm(s, copy, { reservationToken: 'tok-retry', now: T0 + 4_000 + LEASE })).linked, true)
    const update = await decide(s, { fingerprint: 'fp-later', counterpartHint: o, now: T0 + 5_000 + LEASE })
    t.same([update.action, update.target.itemId], ['update', copy.itemId], 'later changes follow the new pair')
  })

  t.test('a copy made anew after its pair was deleted gets a createKey of its own; retries of one create keep one', async (t) => {
    // S creates its Outlook copy O with S's derived key, the Graph transactionId Graph may remember for long
    const s = salesforce()
    const key = deriveCreateKey(tenant, 'salesforce', s.itemId)
    const first = await decide(s, { changeType: 'created', createKey: key })
    t.equal(first.reservation?.createKey, key, 'the first copy is created with the derived key')
    const o = outlook()
    await confirm(s, o, { reservationToken: first.reservation?.token, now: T0 + 1_000 })
    // a person deletes O; the flow deletes S; S is restored from the recycle bin
    await decide(o, { changeType: 'deleted', now: T0 + 2_000 })
    const deletedAt = T0 + 3_000
    await confirm(o, s, { deleted: true, now: deletedAt })
    t.equal((await confirm(o, s, { deleted: true, now: T0 + 3_100 })).linked, false, 'a repeated delete confirm')
    const restored = await decide(s, { changeType: 'undeleted', createKey: key, token: 'tok-anew', now: T0 + 4_000 })
    t.same([restored.action, restored.reservation?.createKey], ['create', `${key}-${deletedAt}`], "keyed by the delete (a repeated confirm changes nothing)")
    // the delete confirm retried late, after the restore: no tombstone again, the restored item's create stands
    const late = await confirm(o, s, { deleted: true, now: T0 + 4_500 })
    t.same([late.linked, late.link.state], [false, 'tombstoned'], 'answered with the tombstone it repeats')
    t.equal(await store().getLink(tenant, s, T0 + 4_500), null, 'the restored item stays untombstoned')
    t.equal((await decide(s, { createKey: key, now: T0 + 4_600 })).reason, 'create_in_flight', 'its reservation stands')
    const swapped = await confirm(s, o, { deleted: true, now: T0 + 4_700 })
    t.equal(swapped.linked, false, 'the repeat with source and target swapped')
    t.equal(await store().getLink(tenant, s, T0 + 4_700), null)
    // the create's answer was lost and its reservation lapsed: the retry sends the same key, so Graph makes no second copy
    const retried = await decide(s, { createKey: key, token: 'tok-retry', now: T0 + 4_000 + LEASE })
    t.same([retried.action, retried.reservation?.createKey], ['create', `${key}-${deletedAt}`])
    // the new copy coming back names S by that key
    const o2 = outlook()
    const back = await decide(o2, { changeType: 'created', counterpartHint: { createKey: `${key}-${deletedAt}` }, now: T0 + 5_000 + LEASE })
    t.same([back.action, back.reason, back.target], ['skip', 'echo', { system: 'salesforce', itemId: s.itemId }], 'a hint with the delete time resolves')
    // deleted and restored once more: a key of the second delete
    const secondDelete = T0 + 6_000 + LEASE
    await confirm(s, o2, { deleted: true, now: secondDelete })
    const third = await decide(s, { changeType: 'undeleted', createKey: key, now: T0 + 7_000 + LEASE })
    t.same([third.action, third.reservation?.createKey], ['create', `${key}-${secondDelete}`])
    // an operator's unlink keeps the mark: a copy that still exists is found again by its key
    t.equal((await store().unlink(tenant, s, T0 + 8_000 + LEASE, TOMBSTONE_TTL)).deleted, false, 'nothing linked to unlink')
    const afterUnlink = await decide(s, { createKey: key, now: T0 + 8_000 + 2 * LEASE })
    t.equal(afterUnlink.reservation?.createKey, `${key}-${secondDelete}`)
    // a mark that keyed a copy stays: that copy's key is found long after
    const markTtl = Math.max(TOMBSTONE_TTL, DELETE_MARK_MIN_TTL_MS)
    t.equal((await decide(s, { createKey: key, now: secondDelete + markTtl + 3 * LEASE })).reservation?.createKey, `${key}-${secondDelete}`)
    // a mark no copy used outlives the tombstone (a restore may come later), then ends
    const pair = await linkPair()
    const dropped = T0 + 10_000
    await confirm(pair.s, pair.o, { deleted: true, now: dropped })
    const sKey = `ck-${pair.s.itemId}`
    t.equal((await decide(pair.s, { changeType: 'undeleted', now: dropped + TOMBSTONE_TTL + 1 })).reservation?.createKey, `${sKey}-${dropped}`)
    t.equal((await decide(pair.o, { now: dropped + markTtl + 1 })).reservation?.createKey, `ck-${pair.o.itemId}`, 'the unused mark of the other item ended')
    // an item that never lost a pair keeps its derived key
    const other = salesforce()
    const otherKey = deriveCreateKey(tenant, 'salesforce', other.itemId)
    t.equal((await decide(other, { changeType: 'created', createKey: otherKey })).reservation?.createKey, otherKey)
  })

  t.test('an undelete after the tombstones expired is created anew, not linked to the counterpart its stamp names', async (t) => {
    const { o, s } = await linkPair()
    await confirm(s, o, { deleted: true, now: T0 + 1_000 })
    const late = T0 + 1_000 + TOMBSTONE_TTL + 1
    const restored = await decide(s, { changeType: 'undeleted', counterpartHint: o, now: late })
    t.same([restored.action, restored.reason], ['create', 'new_item'])
    t.equal(await store().getLink(tenant, s, late), null, 'nothing linked to the deleted counterpart')
  })

  t.test('counterpartHint: our own create coming back is an echo and links the pair', async (t) => {
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created' })
    const back = await decide(s, { changeType: 'created', counterpartHint: o, now: T0 + 1_000 })
    t.same([back.action, back.reason, back.target], ['skip', 'echo', { system: 'outlook', itemId: o.itemId }])
    t.same(back.link && [back.link.outlook, back.link.salesforce, back.link.state], [o.itemId, s.itemId, 'linked'])
    t.equal((await store().getLink(tenant, o, T0 + 1_000))?.salesforce, s.itemId, 'linked from both sides')
    const confirmed = await confirm(o, s, { reservationToken: created.reservation?.token, baseline: { subject: 'b' }, now: T0 + 2_000 })
    t.equal(confirmed.linked, true, 'the late confirm lands on the same link')
    const again = await decide(s, { changeType: 'created', counterpartHint: o, now: T0 + 3_000 })
    t.same([again.action, again.reason], ['skip', 'echo'], 'a redelivered create of the copy stays an echo')
    const edit = await decide(s, { changeType: 'updated', counterpartHint: o, now: T0 + 4_000 })
    t.same([edit.action, edit.target.itemId], ['update', o.itemId], 'the stamp stays on later edits: they are updates')
  })

  t.test('created with a hint on a linked item: with a state, only what we wrote (or the baseline) is an echo', async (t) => {
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created' })
    await confirm(o, s, { reservationToken: created.reservation?.token, writtenFingerprint: 'fp-created', baseline: { subject: 'a' } })
    const ours = await decide(s, { changeType: 'created', counterpartHint: o, fingerprint: 'fp-created', now: T0 + 1_000 })
    t.same([ours.action, ours.reason], ['skip', 'echo'])
    const edited = await decide(s, { changeType: 'created', counterpartHint: o, fingerprint: 'fp-edited', now: T0 + 2_000 })
    t.same([edited.action, edited.reason, edited.target], ['update', 'linked', { system: 'outlook', itemId: o.itemId }], 'edited since our create')
  })

  t.test('counterpartHint links with what the create wrote: its state is the baseline and the echo', async (t) => {
    const state = { subject: 'Kick-off', start: '2026-03-10T15:00:00.000Z', end: '2026-03-10T16:00:00.000Z' }
    const fp = fingerprintFields(state)
    const o = outlook()
    const s = salesforce()
    await decide(o, { changeType: 'created', fingerprint: fp, state })
    const back = await decide(s, { changeType: 'created', counterpartHint: o, fingerprint: fp, now: T0 + 1_000 })
    t.same([back.action, back.reason, back.target.itemId], ['skip', 'echo', o.itemId], 'the copy holds what we created')
    t.same(back.link?.baseline, state)
    t.same((await store().getLink(tenant, o, T0 + 1_000))?.baseline, state, 'both sides hold the baseline')
    t.equal((await decide(s, { fingerprint: fp, now: T0 + 2_000 })).reason, 'echo', 'its next notification too')
    const edit = await decide(s, { fingerprint: 'fp-person', now: T0 + 3_000 })
    t.same([edit.action, edit.reason, edit.target.itemId], ['update', 'linked', o.itemId], 'a later edit of the copy is an update')

    const noState = outlook()
    const copy = salesforce()
    await decide(noState, { changeType: 'created', fingerprint: fp, state })
    const bare = await decide(copy, { changeType: 'created', counterpartHint: noState, now: T0 + 1_000 })
    t.same([bare.action, bare.reason, bare.link?.baseline], ['skip', 'echo', state], 'a notification without a state links with the same baseline')
    t.equal((await decide(copy, { fingerprint: fp, now: T0 + 2_000 })).reason, 'echo')
    t.equal((await decide(copy, { fingerprint: 'fp-person', now: T0 + 2_000 })).action, 'update')
  })

  t.test('counterpartHint: a copy edited before its first notification is an update, linked with the created state as baseline', async (t) => {
    const state = { subject: 'Kick-off' }
    const fp = fingerprintFields(state)
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created', fingerprint: fp, state })
    const edited = await decide(s, { changeType: 'created', counterpartHint: { createKey: created.reservation?.createKey as string }, fingerprint: 'fp-edited', echoBySource: true, now: T0 + 1_000 })
    t.same([edited.action, edited.reason, edited.target], ['update', 'linked', { system: 'outlook', itemId: o.itemId }])
    t.equal(edited.linkedNow, true, 'the pair was linked by this call')
    t.same(edited.link?.baseline, state)
    t.equal((await store().getLink(tenant, o, T0 + 1_000))?.salesforce, s.itemId, 'linked both ways')
    // The create's worker crashed before its confirm: the source is delivered again, unchanged.
    const redelivered = await decide(o, { fingerprint: fp, now: T0 + 2_000 })
    t.same([redelivered.action, redelivered.reason], ['skip', 'echo'], 'the source holds the baseline: nothing new to overwrite the copy with')
    const again = await decide(s, { fingerprint: 'fp-edited', now: T0 + 3_000 })
    t.equal(again.action, 'update', 'the edit is no echo later either')
    t.equal(again.linkedNow, undefined, 'linked before this call')
    const late = await confirm(o, s, { reservationToken: created.reservation?.token, writtenFingerprint: fp, now: T0 + 4_000 })
    t.same([late.linked, late.link.baseline], [true, state], 'the late confirm lands on the same link')
  })

  t.test('counterpartHint after the reservation and its grace lapsed: what the create was asked with still decides', async (t) => {
    const state = { subject: 'Kick-off' }
    const fp = fingerprintFields(state)
    const edited = { subject: 'Kick-off (moved by a person)' }
    const pastGrace = T0 + LEASE + RESERVATION_GRACE_MS + 1_000
    // The create's worker died before its confirm; a person edited the copy; its change comes long after the grace.
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created', fingerprint: fp, state })
    const copy = await decide(s, { counterpartHint: { createKey: created.reservation?.createKey as string }, fingerprint: fingerprintFields(edited), state: edited, now: pastGrace })
    t.same([copy.action, copy.reason, copy.target.itemId, copy.linkedNow], ['update', 'linked', o.itemId, true], 'a person\'s edit, not our echo')
    t.same(copy.link?.baseline, state, 'linked with what the create was asked with as baseline')
    const redelivered = await decide(o, { fingerprint: fp, now: pastGrace + 1_000 })
    t.same([redelivered.action, redelivered.reason], ['skip', 'echo'], 'the source\'s redelivery brings nothing new: the edit is not overwritten')

    // The reservation itself still lapses at expiresAt: the next delivery creates again (same key), as before.
    const o2 = outlook()
    const s2 = salesforce()
    const first = await decide(o2, { changeType: 'created', fingerprint: fp, state })
    const retried = await decide(o2, { fingerprint: fp, state, now: T0 + LEASE })
    t.same([retried.action, retried.reservation?.createKey], ['create', first.reservation?.createKey])
    const ours = await decide(s2, { counterpartHint: o2, fingerprint: fp, now: T0 + 2 * LEASE + RESERVATION_GRACE_MS + 1_000 })
    t.same([ours.action, ours.reason, ours.link?.baseline], ['skip', 'echo', state], 'the copy as created, by its id: echo')

    // Kept as long as the createKey -> source mapping: createKeyTtlMs from the create.
    const o3 = outlook()
    await decide(o3, { changeType: 'created', fingerprint: fp, state })
    const late = await decide(salesforce(), { counterpartHint: o3, fingerprint: 'fp-late', now: T0 + TOMBSTONE_TTL - 1 })
    t.same([late.action, late.linkedNow, late.link?.baseline], ['update', true, state], 'inside createKeyTtlMs')
    const o4 = outlook()
    await decide(o4, { changeType: 'created', fingerprint: fp, state })
    const gone = await decide(salesforce(), { counterpartHint: o4, fingerprint: 'fp-late', now: T0 + TOMBSTONE_TTL })
    t.same([gone.action, gone.reason], ['skip', 'echo'], 'past createKeyTtlMs the create state is forgotten with its key: the copy\'s state is taken as ours')

    // A later create asked without a state replaces it: what that create wrote is unknown.
    const o5 = outlook()
    await decide(o5, { changeType: 'created', fingerprint: fp, state })
    await decide(o5, { now: T0 + LEASE })
    const unknown = await decide(salesforce(), { counterpartHint: o5, fingerprint: 'fp-other', now: pastGrace + LEASE })
    t.same([unknown.action, unknown.reason, unknown.link?.baseline], ['skip', 'echo', undefined])
  })

  t.test('counterpartHint after an unlink: the copy is compared with the baseline, here the create\'s state', async (t) => {
    const state = { subject: 'Kick-off' }
    const fp = fingerprintFields(state)
    const edited = { subject: 'Kick-off (edited)' }
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created', fingerprint: fp, state })
    const createKey = created.reservation?.createKey as string
    t.equal((await confirm(o, s, { reservationToken: created.reservation?.token, writtenFingerprint: fp, baseline: state, now: T0 + 1_000 })).linked, true)
    t.same(await store().unlink(tenant, o, T0 + 2_000, TOMBSTONE_TTL), { deleted: true })
    const copy = await decide(s, { counterpartHint: { createKey }, fingerprint: fingerprintFields(edited), state: edited, now: T0 + 3_000 })
    t.same([copy.action, copy.reason, copy.linkedNow, copy.link?.baseline], ['update', 'linked', true, state], 'a person\'s edit of the copy, not our echo')
    t.same([(await decide(o, { fingerprint: fp, now: T0 + 4_000 })).reason], ['echo'], 'the source brings nothing new')

    const o2 = outlook()
    const s2 = salesforce()
    const second = await decide(o2, { changeType: 'created', fingerprint: fp, state })
    await confirm(o2, s2, { reservationToken: second.reservation?.token, writtenFingerprint: fp, baseline: state, now: T0 + 1_000 })
    await store().unlink(tenant, s2, T0 + 2_000, TOMBSTONE_TTL)
    const same = await decide(s2, { counterpartHint: { createKey: second.reservation?.createKey as string }, fingerprint: fp, now: T0 + 3_000 })
    t.same([same.action, same.reason, same.link?.baseline], ['skip', 'echo', state], 'the copy as created is our echo')
  })

  t.test('counterpartHint after an unlink of a pair confirmed without a baseline: what the create wrote still decides', async (t) => {
    const state = { subject: 'Kick-off' }
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created', fingerprint: fingerprintFields(state), state })
    await confirm(o, s, { reservationToken: created.reservation?.token, writtenFingerprint: fingerprintFields(state), now: T0 + 1_000 })
    await store().unlink(tenant, o, T0 + 2_000, TOMBSTONE_TTL)
    const edited = { subject: 'Kick-off (a person)' }
    const copy = await decide(s, { counterpartHint: { createKey: created.reservation?.createKey as string }, fingerprint: fingerprintFields(edited), state: edited, now: T0 + 3_000 })
    t.same([copy.action, copy.linkedNow, copy.link?.baseline], ['update', true, state], 'a person\'s edit of the copy, not our echo')
  })

  t.test('counterpartHint after an unlink: what we last synced (the baseline), not the create\'s state, is what the copy holds', async (t) => {
    const first = { subject: 'Kick-off' }
    const synced = { subject: 'Kick-off (moved in Outlook)' }
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created', fingerprint: fingerprintFields(first), state: first })
    const createKey = created.reservation?.createKey as string
    await confirm(o, s, { reservationToken: created.reservation?.token, writtenFingerprint: fingerprintFields(first), baseline: first, now: T0 + 1_000 })
    // a later edit of the Outlook event synced into the copy, then an operator's unlink
    await confirm(o, s, { writtenFingerprint: fingerprintFields(synced), baseline: synced, now: T0 + 2_000 })
    await store().unlink(tenant, o, T0 + 3_000, TOMBSTONE_TTL)
    const back = await decide(s, { counterpartHint: { createKey }, fingerprint: fingerprintFields(synced), state: synced, now: T0 + 4_000 })
    t.same([back.action, back.reason, back.link?.baseline], ['skip', 'echo', synced], 'the copy as we last synced it: our echo, not a conflict with the first create')

    const o2 = outlook()
    const s2 = salesforce()
    const second = await decide(o2, { changeType: 'created', fingerprint: fingerprintFields(first), state: first })
    await confirm(o2, s2, { reservationToken: second.reservation?.token, writtenFingerprint: fingerprintFields(first), baseline: first, now: T0 + 1_000 })
    await confirm(o2, s2, { writtenFingerprint: fingerprintFields(synced), baseline: synced, now: T0 + 2_000 })
    await store().unlink(tenant, s2, T0 + 3_000, 10_000)
    const edited = { subject: 'Kick-off (a person)' }
    const copy = await decide(s2, { counterpartHint: o2, fingerprint: fingerprintFields(edited), state: edited, now: T0 + 4_000 })
    t.same([copy.action, copy.linkedNow, copy.link?.baseline], ['update', true, synced], 'a person\'s edit since, with what we synced as baseline')
    await store().unlink(tenant, s2, T0 + 5_000, 10_000)
    const late = await decide(s2, { counterpartHint: o2, fingerprint: fingerprintFields(edited), state: edited, now: T0 + 5_000 + 10_000 })
    t.same([late.action, late.reason], ['skip', 'echo'], 'kept as long as unlink was told; then the copy\'s state is taken as ours')
  })

  t.test('counterpartHint without what the create wrote: the copy\'s state is taken as ours, so a later edit is an update', async (t) => {
    const o = outlook()
    const s = salesforce()
    const state = { subject: 'copied' }
    const back = await decide(s, { changeType: 'updated', counterpartHint: o, fingerprint: 'fp-copy', state })
    t.same([back.action, back.reason, back.link?.baseline], ['skip', 'echo', state])
    t.equal((await decide(s, { fingerprint: 'fp-copy', now: T0 + 1_000 })).reason, 'echo', 'its duplicate')
    t.equal((await decide(s, { fingerprint: 'fp-edit', now: T0 + 2_000 })).action, 'update', 'a person\'s edit')

    const o2 = outlook()
    const s2 = salesforce()
    await decide(o2, { changeType: 'created', fingerprint: 'fp-made' })
    const onlyFp = await decide(s2, { changeType: 'created', counterpartHint: o2, fingerprint: 'fp-made', now: T0 + 1 })
    t.same([onlyFp.action, onlyFp.reason, onlyFp.link?.baseline], ['skip', 'echo', undefined], 'a create asked with a fingerprint only: no baseline')
    t.equal((await decide(s2, { fingerprint: 'fp-other', now: T0 + 2 })).action, 'update')
  })

  t.test('counterpartHint without a reservation still links: the stamp proves our create', async (t) => {
    const o = outlook()
    const s = salesforce()
    const back = await decide(s, { changeType: 'updated', counterpartHint: o })
    t.same([back.action, back.reason], ['skip', 'echo'])
    t.equal((await decide(o, { now: T0 + 1 })).action, 'update')
  })

  t.test('counterpartHint on a delete: the stamp proves the pair, so it is a linked delete', async (t) => {
    const o = outlook()
    const s = salesforce()
    await decide(o, { changeType: 'created' })
    const gone = await decide(s, { changeType: 'deleted', counterpartHint: o, now: T0 + 1 })
    t.same([gone.action, gone.reason, gone.target, gone.linkedNow], ['delete', 'linked', { system: 'outlook', itemId: o.itemId }, true], 'linked by this call: the flow read no counterpart')
    t.equal((await store().getLink(tenant, o, T0 + 1))?.salesforce, s.itemId)
    const ours = await decide(salesforce(), { changeType: 'deleted', counterpartHint: outlook(), echoBySource: true })
    t.same([ours.action, ours.reason], ['skip', 'echo'], 'our own delete stays an echo')
  })

  t.test('counterpartHint naming an item linked elsewhere is a conflicting_link', async (t) => {
    const { o, s } = await linkPair()
    const copy = salesforce()
    const result = await decide(copy, { changeType: 'created', counterpartHint: o })
    t.same([result.action, result.reason, result.target], ['skip', 'conflicting_link', { system: 'outlook', itemId: o.itemId }])
    t.equal(result.link?.salesforce, s.itemId, 'the link it conflicts with')
    t.equal(await store().getLink(tenant, copy, T0), null, 'the copy is not linked')
  })

  t.test('counterpartHint by createKey: the copy reports the key it was created with; echo, and the pair is linked', async (t) => {
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created' })
    const createKey = created.reservation?.createKey as string
    const back = await decide(s, { changeType: 'created', counterpartHint: { createKey }, now: T0 + 1_000 })
    t.same([back.action, back.reason, back.target], ['skip', 'echo', { system: 'outlook', itemId: o.itemId }])
    t.same(back.link && [back.link.outlook, back.link.salesforce, back.link.state], [o.itemId, s.itemId, 'linked'])
    t.equal((await store().getLink(tenant, o, T0 + 1_000))?.salesforce, s.itemId, 'linked from both sides')
    t.equal((await decide(o, { now: T0 + 1_500 })).action, 'update', 'the reservation went with the link')
    const confirmed = await confirm(o, s, { reservationToken: created.reservation?.token, now: T0 + 2_000 })
    t.equal(confirmed.linked, true, 'the late confirm lands on the same link')
    const again = await decide(s, { changeType: 'created', counterpartHint: { createKey }, now: T0 + 3_000 })
    t.same([again.action, again.reason], ['skip', 'echo'], 'a redelivered create of the copy stays an echo')
    const edit = await decide(s, { counterpartHint: { createKey }, now: T0 + 4_000 })
    t.same([edit.action, edit.target.itemId], ['update', o.itemId], 'the key stays on later edits: they are updates')

    const copy = salesforce()
    const second = await decide(copy, { changeType: 'created', counterpartHint: { createKey }, now: T0 + 5_000 })
    t.same([second.action, second.reason, second.target.itemId], ['skip', 'conflicting_link', o.itemId], 'a second copy with the key conflicts')
    t.equal(second.link?.salesforce, s.itemId)
    t.equal(await store().getLink(tenant, copy, T0 + 5_000), null)
  })

  t.test('counterpartHint by createKey from a Salesforce create, on a delete of the copy: a linked delete', async (t) => {
    const s = salesforce()
    const o = outlook()
    const created = await decide(s, { changeType: 'created', createKey: `ck-sf-${s.itemId}` })
    const gone = await decide(o, { changeType: 'deleted', counterpartHint: { createKey: `ck-sf-${s.itemId}` }, now: T0 + 1 })
    t.same([gone.action, gone.reason, gone.target], ['delete', 'linked', { system: 'salesforce', itemId: s.itemId }])
    t.ok(created.reservation)
  })

  t.test('an unknown createKey counts as no hint: never handed out, expired, or handed out in the same system', async (t) => {
    const never = await decide(salesforce(), { changeType: 'created', counterpartHint: { createKey: uniq('ck-never') } })
    t.same([never.action, never.reason, never.target], ['create', 'new_item', { system: 'outlook', itemId: null }])

    const o = outlook()
    await decide(o, { changeType: 'created', createKey: `ck-old-${o.itemId}` })
    const late = await decide(salesforce(), { changeType: 'created', counterpartHint: { createKey: `ck-old-${o.itemId}` }, now: T0 + TOMBSTONE_TTL })
    t.same([late.action, late.reason], ['create', 'new_item'], 'past createKeyTtlMs the key is forgotten')
    t.equal(await store().getLink(tenant, o, T0 + TOMBSTONE_TTL), null)

    const o1 = outlook()
    await decide(o1, { changeType: 'created', createKey: `ck-same-${o1.itemId}` })
    const sameSide = await decide(outlook(), { changeType: 'created', counterpartHint: { createKey: `ck-same-${o1.itemId}` }, now: T0 + 1 })
    t.same([sameSide.action, sameSide.reason], ['create', 'new_item'], 'a key of an Outlook item names no counterpart of an Outlook item')
    t.equal(await store().getLink(tenant, o1, T0 + 1), null)

    const unlinkedDelete = await decide(salesforce(), { changeType: 'deleted', counterpartHint: { createKey: uniq('ck-never') } })
    t.same([unlinkedDelete.action, unlinkedDelete.reason], ['skip', 'no_link_for_delete'])
    const elsewhere = await store().decide({
      tenant: `${tenant}-other`,
      ...salesforce(),
      changeType: 'created',
      echoBySource: false,
      counterpartHint: { createKey: `ck-same-${o1.itemId}` },
      token: 'tok',
      createKey: 'ck',
      leaseMs: LEASE,
      createKeyTtlMs: TOMBSTONE_TTL,
      echoWindowMs: WINDOW,
      now: T0 + 1,
    })
    t.equal(elsewhere.action, 'create', 'another tenant\'s createKey is unknown here')
  })

  t.test('counterpartHint by the createKey of a tombstoned pair is tombstoned', async (t) => {
    const o = outlook()
    const s = salesforce()
    const created = await decide(o, { changeType: 'created' })
    await confirm(o, s, { reservationToken: created.reservation?.token })
    await confirm(o, s, { deleted: true, now: T0 + 1_000 })
    const copy = salesforce()
    const late = await decide(copy, { changeType: 'created', counterpartHint: { createKey: created.reservation?.createKey as string }, now: T0 + 2_000 })
    t.same([late.action, late.reason, late.target], ['skip', 'tombstoned', { system: 'outlook', itemId: o.itemId }])
    t.equal(late.link?.state, 'tombstoned')
    t.equal(await store().getLink(tenant, copy, T0 + 2_000), null, 'nothing linked')
  })

  t.test('counterpartHint by createKey follows the series rules of the item it names', async (t) => {
    const single = outlook()
    const created = await decide(single, { changeType: 'created', role: 'single' })
    const hinted = await decide(salesforce(), {
      changeType: 'created',
      role: 'series_master',
      counterpartHint: { createKey: created.reservation?.createKey as string },
      now: T0 + 1,
    })
    t.same([hinted.action, hinted.reason], ['skip', 'series_mismatch'])
    t.equal(await store().getLink(tenant, single, T0 + 1), null)
  })

  t.test('unlink forgets the pair both ways; the item then counts as unlinked', async (t) => {
    const { o, s } = await linkPair({ writtenFingerprint: 'fp-w' })
    t.same(await store().unlink(tenant, s, T0 + 1, TOMBSTONE_TTL), { deleted: true })
    t.equal(await store().getLink(tenant, o, T0 + 1), null)
    t.equal(await store().getLink(tenant, s, T0 + 1), null)
    t.equal((await decide(o, { now: T0 + 2 })).action, 'create')
    t.equal((await decide(s, { fingerprint: 'fp-w', now: T0 + 2 })).action, 'create', 'its ledger went too')
    t.same(await store().unlink(tenant, salesforce(), T0, TOMBSTONE_TTL), { deleted: false })
  })

  t.test('series: occurrences never create alone; roles are kept; a series never links to a single item', async (t) => {
    const occurrence = await decide(outlook(), { changeType: 'created', role: 'occurrence' })
    t.same([occurrence.action, occurrence.reason], ['skip', 'series_occurrence'])
    const exception = await decide(salesforce(), { role: 'exception' })
    t.same([exception.action, exception.reason], ['skip', 'series_occurrence'])

    const master = outlook()
    const series = salesforce()
    const created = await decide(master, { changeType: 'created', role: 'series_master' })
    t.equal(created.action, 'create', 'a series master creates its series')
    const confirmed = await confirm(master, series, {})
    t.same(confirmed.link.roles, { outlook: 'series_master' })
    const seen = await decide(series, { role: 'series_master', now: T0 + 1 })
    t.equal(seen.action, 'update')
    t.same((await store().getLink(tenant, master, T0 + 1))?.roles, { outlook: 'series_master', salesforce: 'series_master' })

    // occurrences are linked one to one by the flow (matched by original start), then update normally
    const occO = outlook()
    const occS = salesforce()
    await confirm(occO, occS, {})
    t.same((await decide(occO, { role: 'occurrence', now: T0 + 2 })).action, 'update')
    const clash = await decide(occS, { role: 'series_master', now: T0 + 3 })
    t.same([clash.action, clash.reason], ['skip', 'series_mismatch'], 'an occurrence-linked item turned into a series')

    const single = outlook()
    await decide(single, { changeType: 'created', role: 'single' })
    const hinted = await decide(salesforce(), { changeType: 'created', role: 'series_master', counterpartHint: single })
    t.same([hinted.action, hinted.reason], ['skip', 'series_mismatch'], 'a series copy never links to a single event')
    t.equal(await store().getLink(tenant, single, T0), null)
  })

  t.test('tenants are separate and odd ids are safe', async (t) => {
    const o = outlook('AAMk:{odd}/id+=é')
    const s = salesforce('00U{x}:1')
    await decide(o, { changeType: 'created' })
    await confirm(o, s, { writtenFingerprint: 'fp' })
    t.equal((await store().getLink(tenant, o, T0))?.salesforce, s.itemId)
    const elsewhere = await store().decide({
      tenant: `${tenant}-b`,
      ...s,
      changeType: 'updated',
      fingerprint: 'fp',
      echoBySource: false,
      token: 'tok',
      createKey: 'ck',
      leaseMs: LEASE,
      createKeyTtlMs: TOMBSTONE_TTL,
      echoWindowMs: WINDOW,
      now: T0,
    })
    t.equal(elsewhere.action, 'create', 'another tenant knows nothing of the link or the ledger')
  })
}
