%dw 2.0
// sidecar-request: POST /resolve-conflict
// Both sides changed since the last sync. No base is sent: the sidecar uses the baseline /correlate/confirm stored
// for this pair. The answer says what each side must get, in that system's shape.
output application/json
fun side(state) = {
    itemId: state.itemId,
    (fields: state.fields) if (state.fields != null),
    (modifiedAt: state.modifiedAt) if (state.modifiedAt != null),
    (deleted: true) if (state.deleted default false)
}
---
{
    tenant: p('sync.tenant'),
    policy: p('sync.conflict.policy'),
    deletePolicy: p('sync.conflict.deletePolicy'),
    outlook: side(vars.outlookSide),
    salesforce: side(vars.salesforceSide)
}
