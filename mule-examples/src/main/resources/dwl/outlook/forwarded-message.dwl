%dw 2.0
// Event Hubs hands over the pre-filter's message as text or bytes; the HTTP listener already has JSON.
output application/json
---
if (payload is String or payload is Binary) read(payload, "application/json") else payload
