%dw 2.0
// sidecar-request: POST /dedupe
// Native form: the sidecar reads system, itemId, version (transactionKey:sequenceNumber), modifiedAt and changeType
// from the change event itself. The Event's synced fields let it answer `unchanged` when only other fields moved.
output application/json
---
{
    tenant: p('sync.tenant'),
    changeEvent: vars.changeEvent,
    (fields: vars.salesforceSide.fields) if (vars.salesforceSide.fields != null),
    leaseMs: p('sidecar.leaseMs') as Number
}
