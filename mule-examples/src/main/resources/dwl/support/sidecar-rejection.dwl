%dw 2.0
// What a permanent sidecar error said: kept in a variable so the retry scope ends, then raised as SIDECAR:REJECTED
// (or SIDECAR:MISCONFIGURED when every request of the kind would be refused alike).
// The sidecar answers problem details (detail, errors[].path/message), so the log names the field at fault.
output application/java
var status = error.errorMessage.attributes.statusCode
var body = error.errorMessage.payload
---
{
    operation: vars.sidecarOperation,
    status: status,
    detail: (body.detail default error.description) default "no detail",
    errors: (body.errors default []) map ((e) -> (e.path default "") ++ ": " ++ (e.message default ""))
}
