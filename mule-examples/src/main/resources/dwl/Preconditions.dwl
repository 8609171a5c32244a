%dw 2.0
// Write preconditions built from the state a flow read: the write must fail (412) when the item changed since.

// Salesforce REST reads If-Unmodified-Since as an HTTP date. LastModifiedDate has whole seconds, so an edit made in
// the same second as our read still passes (README, "Limits").
fun httpDate(value) =
    if (value == null) null
    else ((value as DateTime) >> "UTC") as String { format: "EEE, dd MMM yyyy HH:mm:ss 'GMT'", locale: "en" }

// The If-Unmodified-Since of a write into the Salesforce Event `itemId`: the LastModifiedDate of the row the flow read,
// or null (no precondition) when the side read is another Event or none.
fun ifUnmodifiedSince(side, itemId) =
    if (side.itemId != null and side.itemId == itemId and not (side.deleted default true))
        httpDate(side.record.LastModifiedDate)
    else null
