%dw 2.0
// sidecar-request: POST /dedupe/release
// The write failed: give the item back so the next delivery of this change is processed instead of waiting for the
// claim to lapse.
output application/json
---
{
    tenant: vars.dedupe.key.tenant,
    system: vars.dedupe.key.system,
    itemId: vars.dedupe.key.itemId,
    token: vars.dedupe.claim.token
}
