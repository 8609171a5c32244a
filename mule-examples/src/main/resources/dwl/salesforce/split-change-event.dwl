%dw 2.0
// The replay channel listener delivers the wrapped CometD form (header at data.payload.ChangeEventHeader). A change
// event whose recordIds holds several Events becomes one change event per Event: /dedupe takes one record at a time.
output application/java
var header = payload.data.payload.ChangeEventHeader
---
(header.recordIds default []) map ((recordId) ->
    payload update {
        case .data.payload.ChangeEventHeader.recordIds -> [recordId]
    })
