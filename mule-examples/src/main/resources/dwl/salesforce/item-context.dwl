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
    replayId: payload.data.event.replayId default payload.event.replayId
}
