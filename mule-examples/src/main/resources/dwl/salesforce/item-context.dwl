%dw 2.0
// What the Salesforce -> Outlook steps need to know about one change event, read once.
output application/java
var body = payload.data.payload default payload.payload default payload
var header = body.ChangeEventHeader
var recordId = (header.recordIds default [])[0]
---
{
    sourceSystem: "salesforce",
    itemId: recordId,
    changeType: header.changeType,
    isDelete: ["DELETE", "GAP_DELETE"] contains header.changeType,
    // transactionKey + sequenceNumber + record: the same on every replay of this change.
    itemKey: "salesforce:" ++ (header.transactionKey default "") ++ ":" ++ ((header.sequenceNumber default 0) as String) ++ ":" ++ (recordId default ""),
    replayId: payload.data.event.replayId default payload.event.replayId,
    // New for every delivery, the same for every retry inside it: part of the Idempotency-Key of each sidecar call.
    attempt: uuid()
}
