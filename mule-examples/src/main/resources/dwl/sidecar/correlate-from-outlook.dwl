%dw 2.0
// sidecar-request: POST /correlate
// Echo? Linked? Create or update? Graph events say nothing about who changed them, so echoes are found by the
// fingerprint of fields (what we wrote comes back unchanged) and by what our create left on the event: the Salesforce
// id stamped in an extended property (only when the read returned it), else the createKey it was created with, which
// Graph keeps as the event's transactionId. The sidecar knows which Salesforce Event that createKey was issued for.
import isCreateKey from dwl::CreateKey
import outlookSeriesRole from dwl::Series
output application/json
var hint = vars.outlookSide.sourceIdStamp
var createKey = vars.outlookSide.createKey
var role = outlookSeriesRole(vars.outlookSide.event)
---
{
    tenant: p('sync.tenant'),
    system: "outlook",
    itemId: vars.sync.itemId,
    changeType: vars.sync.changeType,
    (fields: vars.outlookSide.fields) if (vars.outlookSide.fields != null),
    (counterpartHint: { system: "salesforce", itemId: hint }) if (not isEmpty(hint)),
    (counterpartHint: { createKey: createKey }) if (isEmpty(hint) and isCreateKey(createKey)),
    (targetFields: vars.salesforceSide.fields) if (vars.salesforceSide.fields != null),
    (seriesRole: role) if (role != null),
    // read again after earlier_write: the same state is then a person's revert
    (reread: true) if (vars.reread default false),
    // the claim this change is processed under: resent after a lost answer, /correlate gives our reservation again
    (claimToken: vars.dedupe.claim.token) if (vars.dedupe.claim.token != null),
    leaseMs: p('sidecar.leaseMs') as Number
}
