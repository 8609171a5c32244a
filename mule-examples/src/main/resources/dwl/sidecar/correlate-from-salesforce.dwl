%dw 2.0
// sidecar-request: POST /correlate
// Echo? Linked? Create or update? The native change event carries changedBy (commitUser) and changeOrigin; fields
// are the Event now; counterpartHint is the Outlook id our own create stamped on this Event, or, when that field is
// empty, the createKey our create upserted it on (Calendar_Sync_Key__c), which the sidecar resolves to the Outlook
// event it was issued for; targetFields are the linked Outlook event now, so the sidecar can see when both sides
// changed since the last sync. An UPDATE change event carries only changed fields, so IsChild and the series role
// come from the record just read.
import isCreateKey from dwl::CreateKey
import salesforceSeriesRole from dwl::Series
output application/json
var record = vars.salesforceSide.record
var hint = record.Outlook_Event_Id__c
var createKey = record.Calendar_Sync_Key__c
var role = salesforceSeriesRole(record)
---
{
    tenant: p('sync.tenant'),
    changeEvent: vars.changeEvent,
    (fields: vars.salesforceSide.fields) if (vars.salesforceSide.fields != null),
    (counterpartHint: { system: "outlook", itemId: hint }) if (not isEmpty(hint)),
    (counterpartHint: { createKey: createKey }) if (isEmpty(hint) and isCreateKey(createKey)),
    (targetFields: vars.outlookSide.fields) if (vars.outlookSide.fields != null),
    (isChild: record.IsChild) if (record.IsChild != null),
    (seriesRole: role) if (role != null),
    // read again after earlier_write: the same state is then a person's revert
    (reread: true) if (vars.reread default false),
    // the claim this change is processed under: resent after a lost answer, /correlate gives our reservation again
    (claimToken: vars.dedupe.claim.token) if (vars.dedupe.claim.token != null),
    leaseMs: p('sidecar.leaseMs') as Number
}
