%dw 2.0
// Headers of every sidecar call: the flow's correlation id, which the sidecar logs on every line and echoes.
output application/java
---
{
    "X-Correlation-ID": correlationId
}
