%dw 2.0
// A write that no retry can fix (bad request, forbidden, validation): kept so the retry scope ends,
// then raised as SYNC:WRITE_REJECTED by the caller.
output application/java
---
{
    system: vars.writeSystem,
    operation: vars.writeOperation,
    errorType: (error.errorType.namespace default "") ++ ":" ++ (error.errorType.identifier default ""),
    detail: error.description default "no detail"
}
