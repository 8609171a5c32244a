%dw 2.0
// The Salesforce Event written from the Outlook event, as the one record salesforce:upsert takes. A create carries
// the reservation's createKey in the external-id field it is upserted on (a retried create updates the same
// Event), the Outlook id as the source stamp that /correlate later receives as counterpartHint, and the mailbox the
// event is in, where the other direction reads and writes it.
import toSalesforce from dwl::Canonical
output application/java
var creating = vars.correlation.action == "create"
---
[
    toSalesforce(vars.outlookSide.fields) ++ (if (creating) {
        Calendar_Sync_Key__c: vars.correlation.reservation.createKey,
        Outlook_Event_Id__c: vars.outlookSide.itemId,
        Outlook_Mailbox__c: vars.outlookSide.userId,
        (OwnerId: vars.ownerId) if (vars.ownerId != null)
    } else {
        Id: vars.correlation.target.itemId
    })
]
