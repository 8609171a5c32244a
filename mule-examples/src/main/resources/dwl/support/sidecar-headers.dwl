%dw 2.0
// Headers of every sidecar call: the flow's correlation id, and an Idempotency-Key on writes so that
// until-successful and source redeliveries can resend a POST safely.
output application/java
---
{
    "X-Correlation-ID": correlationId,
    ("Idempotency-Key": vars.idempotencyKey) if (vars.idempotencyKey != null)
}
