%dw 2.0
// sidecar-request: POST /dedupe/commit
// Everything for this version is done: record it, with the synced fields it had, so replays are `duplicate` and a
// later version with the same fields is `unchanged`. An Outlook source also names the state it processed (after
// waiting out in_flight that is a fresh read, newer than the one claimed), so a late read of a state in between is
// `stale`, not a new version.
output application/json
var source = if (vars.sync.sourceSystem == "salesforce") vars.salesforceSide else vars.outlookSide
var outlookEvent = if (vars.sync.sourceSystem == "salesforce") null else vars.outlookSide.event
---
{
    tenant: vars.dedupe.key.tenant,
    system: vars.dedupe.key.system,
    itemId: vars.dedupe.key.itemId,
    token: vars.dedupe.claim.token,
    (version: outlookEvent.changeKey) if (outlookEvent.changeKey != null),
    (modifiedAt: outlookEvent.lastModifiedDateTime) if (outlookEvent.lastModifiedDateTime != null),
    (fields: source.fields) if (source.fields != null)
}
