%dw 2.0
// sidecar-request: POST /correlate
// Echo? Linked? Create or update? Graph events say nothing about who changed them, so echoes are found by the
// fingerprint of fields (what we wrote comes back unchanged) and by the Salesforce id our create stamped on the event.
import outlookSeriesRole from dwl::Series
output application/json
var hint = vars.outlookSide.sourceIdStamp
var role = outlookSeriesRole(vars.outlookSide.event)
---
{
    tenant: p('sync.tenant'),
    system: "outlook",
    itemId: vars.sync.itemId,
    changeType: vars.sync.changeType,
    (fields: vars.outlookSide.fields) if (vars.outlookSide.fields != null),
    (counterpartHint: { system: "salesforce", itemId: hint }) if (not isEmpty(hint)),
    (targetFields: vars.salesforceSide.fields) if (vars.salesforceSide.fields != null),
    (seriesRole: role) if (role != null),
    leaseMs: p('sidecar.leaseMs') as Number
}
