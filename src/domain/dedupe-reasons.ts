// One sentence a person can act on, for every dedupe reason code.
import type { DedupeReasonCode } from './dedupe-model.js'

const SENTENCES: Record<DedupeReasonCode, string> = {
  new_version: 'New version: write it to the other system, then call /dedupe/commit (or /dedupe/release if the write fails).',
  claim_lapsed:
    'An earlier claim on this item lapsed without a commit; this delivery takes over: write, then /dedupe/commit (or /dedupe/release).',
  gap_event:
    'Salesforce gap event: it carries no field values; re-read the record by id, write its current state, then /dedupe/commit.',
  gap_overflow:
    'Salesforce GAP_OVERFLOW: changes were too many to deliver; resync the whole object for the affected period, then /dedupe/commit.',
  version_committed: 'This exact version was already committed (or covered by the committed write of a newer event in its batch); skip it.',
  version_unchanged: 'This exact version was already seen with unchanged synced fields; skip it.',
  older_than_committed: 'A newer version of this item was already committed (modifiedAt is older); skip it.',
  item_deleted: 'The item was deleted and this event is not newer than the delete; skip it.',
  claim_live: 'Another worker holds a live claim on this item; retry after retryAfterMs.',
  same_fingerprint: 'Only fields outside the sync changed (same fingerprint); nothing to write. The version is recorded.',
}

export function explainDedupe(reason: DedupeReasonCode): string {
  return SENTENCES[reason]
}

export const SUPERSEDED_REASON =
  'A newer event for the same item is in this batch; only that one is decided. Skip this one.'

/** A batch event below its item's decided event when that one is in_flight: nothing of the item was handled. */
export const HELD_WITH_NEWER_REASON =
  'Another worker holds a live claim on this item, and this batch\'s newer event for it is in_flight too: send this one again with it after retryAfterMs (alone, it may carry a change the newer one does not, such as a gap event\'s re-read).'

/** A batch event above its item's undelete in the same batch, which got `process` (batch-collapse.ts, undeleteFirst). */
export const AFTER_UNDELETE_REASON =
  'This batch undeletes the item in an older event, answered process: write that restore and commit it first, then, after retryAfterMs, send this event again together with the undelete (the batch as it came). Alone, it meets the deleted pair if the restore was not written, and the restore is lost.'
