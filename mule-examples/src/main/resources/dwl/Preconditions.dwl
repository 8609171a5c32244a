%dw 2.0
// Write preconditions built from the state a flow read: the write must fail (412) when the item changed since.
import fromSalesforce from dwl::Canonical

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

// After a 412 on an update: does the Event read back (`row`, null when gone) hold everything the update's confirm
// records (`sent`: the record sent without its Id, or for a resolution's patch the whole merged item as Event fields)?
// A retried update is refused when the attempt before it landed but its answer was lost; the Event then holds them.
// Compared as canonical items, so the formats of dates and text do not matter: the Event with `sent` laid over it
// reads the same as the Event itself.
fun holdsWrite(row, sent) =
    if (row == null or (row.IsDeleted default false) or sent == null) false
    else do {
        var sentNames = namesOf(sent)
        var laidOver = (row filterObject ((value, key) -> not (sentNames contains (key as String)))) ++ sent
        ---
        fromSalesforce(row) == fromSalesforce(laidOver)
    }
