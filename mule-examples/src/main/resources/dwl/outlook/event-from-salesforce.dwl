%dw 2.0
// The Graph event written into Outlook from the Salesforce Event. A create also carries transactionId = the
// reservation's createKey (Graph refuses to make a second event for a retried create) and the Salesforce Id in a
// named extended property: the source stamp that /correlate later receives as counterpartHint.
import toOutlook from dwl::Canonical
output application/json
var creating = vars.correlation.action == "create"
---
toOutlook(vars.salesforceSide.fields) ++ (if (creating) {
    transactionId: vars.correlation.reservation.createKey,
    singleValueExtendedProperties: [{ id: p('outlook.sourceIdProperty'), value: vars.salesforceSide.itemId }]
} else {})
