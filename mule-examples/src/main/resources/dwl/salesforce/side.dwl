%dw 2.0
// One side of the pair as the flows carry it: the Salesforce Event read just now (payload: the row or null).
import fromSalesforce, instant from dwl::Canonical
output application/java
var record = payload
var live = record != null and not (record.IsDeleted default false)
---
{
    // The id as asked for (the link's, or the change event's): what the sidecar knows the Event by, in the form it
    // was given (Salesforce answers the 18-character form whichever was asked)
    itemId: vars.salesforceRead.id default record.Id,
    record: record,
    deleted: not live,
    (fields: fromSalesforce(record)) if (live),
    (modifiedAt: instant(record.LastModifiedDate)) if (live and record.LastModifiedDate != null),
    // The Outlook mailbox of the pair: the one our create from Outlook copied the event out of (stamped on the Event,
    // as its organizer may have no Salesforce user, and the integration user then owns the Event), else the mailbox of
    // the Event's owner (Graph accepts the UPN, usually the e-mail address).
    mailbox: if (isEmpty(record.Outlook_Mailbox__c)) (record.Owner.Email default p('outlook.defaultUserId'))
        else record.Outlook_Mailbox__c
}
