%dw 2.0
// sidecar-request: POST /resolve-conflict
// Both sides changed since the last sync. The base is the baseline /correlate answered with, the one it judged the
// reads by. When another worker's confirm lands in between, the stored one would make a side read before that
// worker's write look changed (the /correlate one errs only for a side read between that write and its confirm, a
// narrower window). Without one (none stored yet), the sidecar looks it up itself. The answer says what each side
// must get, in that system's shape.
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
    (base: vars.correlation.baseline) if (vars.correlation.baseline != null),
    outlook: side(vars.outlookSide),
    salesforce: side(vars.salesforceSide)
}
