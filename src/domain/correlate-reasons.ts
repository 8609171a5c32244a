// What a Mule flow does for each /correlate action and reason: one sentence each, used in replies and in the OpenAPI.
import type { CorrelateReason } from './correlate-model.js'

const SENTENCES: Record<CorrelateReason, string> = {
  new_item:
    'No counterpart yet: create it in target.system using reservation.createKey as the Graph transactionId or the Salesforce external-id upsert key, stamp the source id on it, then call /correlate/confirm with the new id and reservation.token.',
  linked:
    'Linked: write the change to target.itemId (update, or delete for a delete), then call /correlate/confirm with what you wrote and the new baseline (deleted: true after a delete).',
  both_changed:
    'Both sides changed since the last sync (targetFields differ from the baseline; or this call linked the pair, whose counterpart you did not read, and it may have changed since our create; or this item was deleted while its counterpart was edited): call /resolve-conflict (a deleted side with deleted: true), write what it returns to each side, then /correlate/confirm (with replaces after a create of the deleted side).',
  echo: 'Our own write coming back, a state with nothing new since the last sync, or our own create (now linked): skip it, write nothing.',
  create_in_flight:
    'Another worker is creating the counterpart right now: write nothing; redeliver this change after retryAfterMs (it then becomes an update, or a create if that reservation lapsed).',
  earlier_write:
    'This state is what we wrote into the item before our latest write, so it was most likely read before that write landed: write nothing; read the item again and call /correlate again with reread: true (our latest write then is an echo; the same state again is a person setting it back, an update). A flow that cannot read again in place releases the claim and redelivers after retryAfterMs, when the state counts as a change.',
  no_link_for_delete: 'The deleted item was never linked: nothing to delete on the other side; skip it.',
  tombstoned: 'The pair was deleted: this late change must not recreate it; skip it.',
  replaced:
    'This item was restored after a conflict resolution made it anew while it was deleted (the pair lives on with that copy, linked to target.itemId): it is a second copy of the meeting in its system. Nothing is written or linked; a person deletes one of the two (GET /correlate for target.itemId names the other).',
  conflicting_link:
    'The item carries the stamp of an item that is already linked to another counterpart: it is an extra copy (delete it) or a person copied a synced item (remove the stamp and resend); nothing was linked.',
  series_occurrence:
    'An occurrence or exception of a recurring series without a link: it is never created alone (creating its series creates it). Sync the series master, then link each occurrence pair (same original start) with /correlate/confirm; skip this one.',
  series_mismatch:
    'A recurring series would be paired with a single event or an occurrence (or the item changed shape): nothing is written or linked; fix it by hand, e.g. DELETE /correlate for the item and resync.',
  child_event:
    'A Salesforce invitee\'s child event (IsChild): only the organizer\'s parent event is synced; skip it.',
}

export function explainCorrelate(reason: CorrelateReason): string {
  return SENTENCES[reason]
}

/** The reason list for the OpenAPI description, one line per reason. */
export function describeCorrelateReasons(): string {
  return Object.entries(SENTENCES)
    .map(([reason, sentence]) => `${reason}: ${sentence}`)
    .join(' ')
}
