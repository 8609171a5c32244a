%dw 2.0
// One side of the pair as the flows carry it: the Outlook event read just now (payload: the Graph event or null).
import fromOutlook from dwl::Canonical
output application/java
var event = payload
var stamps = (event.singleValueExtendedProperties default []) filter ((property) -> property.id == p('outlook.sourceIdProperty'))
---
{
    itemId: vars.outlookCall.eventId,
    userId: vars.outlookCall.userId,
    event: event,
    deleted: event == null,
    (fields: fromOutlook(event)) if (event != null),
    (modifiedAt: event.lastModifiedDateTime) if (event != null),
    // The Salesforce Event Id our own create stamped on this event. Present only when the read returned extended
    // properties (Graph sends them only when asked with $expand; see README, "Limits").
    sourceIdStamp: stamps[0].value,
    // The createKey our own create sent as transactionId (Graph returns it with the event); null for events made
    // elsewhere, and another app's transactionId is no createKey (dwl::CreateKey tells them apart).
    createKey: event.transactionId
}
