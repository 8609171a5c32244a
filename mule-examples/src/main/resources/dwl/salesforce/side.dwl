%dw 2.0
// One side of the pair as the flows carry it: the Salesforce Event read just now (payload: the row or null).
import fromSalesforce, instant from dwl::Canonical
output application/java
var record = payload
var live = record != null and not (record.IsDeleted default false)
---
{
    itemId: record.Id default vars.salesforceRead.id,
    record: record,
    deleted: not live,
    (fields: fromSalesforce(record)) if (live),
    (modifiedAt: instant(record.LastModifiedDate)) if (live and record.LastModifiedDate != null),
    // The Outlook mailbox of the Event's owner (Graph accepts the UPN, usually the e-mail address).
    ownerEmail: record.Owner.Email default p('outlook.defaultUserId')
}
