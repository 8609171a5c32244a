%dw 2.0
// sidecar-request: POST /correlate/confirm
// A write succeeded: link the pair, record what we wrote (the echo ledger: when it comes back, it is our echo) and
// the state both sides now share (the baseline for the next conflict check). Built from vars.confirm; replaces names the
// item a resolution's create replaced (it was deleted), so the pair is linked anew.
output application/json
var confirm = vars.confirm
---
{
    tenant: p('sync.tenant'),
    source: { system: confirm.source.system, itemId: confirm.source.itemId },
    target: { system: confirm.target.system, itemId: confirm.target.itemId },
    (written: { fields: confirm.fields }) if (confirm.fields != null),
    (baseline: confirm.baseline) if (confirm.baseline != null),
    (reservationToken: confirm.reservationToken) if (confirm.reservationToken != null),
    (deleted: true) if (confirm.deleted default false),
    (replaces: confirm.replaces) if (confirm.replaces != null)
}
