%dw 2.0
// sidecar-request: POST /dedupe/commit
// Everything for this version is done: record it, with the synced fields it had, so replays are `duplicate` and a
// later version with the same fields is `unchanged`.
output application/json
var source = if (vars.sync.sourceSystem == "salesforce") vars.salesforceSide else vars.outlookSide
---
{
    tenant: vars.dedupe.key.tenant,
    system: vars.dedupe.key.system,
    itemId: vars.dedupe.key.itemId,
    token: vars.dedupe.claim.token,
    (fields: source.fields) if (source.fields != null)
}
