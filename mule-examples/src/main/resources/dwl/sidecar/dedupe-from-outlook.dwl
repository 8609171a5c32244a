%dw 2.0
// sidecar-request: POST /dedupe
// Explicit form: the pre-filter already collapsed the Graph notifications into one message per item. The version is
// the changeKey of the state just read (two notifications that read the same state are one version); a delete has
// no state to read and uses "deleted:" and the message's etag (item-context.dwl).
output application/json
var event = vars.outlookSide.event
---
{
    tenant: p('sync.tenant'),
    system: "outlook",
    itemId: vars.sync.itemId,
    version: event.changeKey default vars.sync.etag,
    (modifiedAt: event.lastModifiedDateTime) if (event.lastModifiedDateTime != null),
    changeType: vars.sync.changeType,
    (fields: vars.outlookSide.fields) if (vars.outlookSide.fields != null),
    leaseMs: p('sidecar.leaseMs') as Number
}
