%dw 2.0
// The canonical calendar item the sidecar compares (subject, start, end, isAllDay, location, description, showAs,
// isPrivate), read the same way from a Salesforce Event and from a Graph event so that fingerprints, echoes and
// baselines compare like with like; and the way back into each system's shape. Attendees are not synced here.
// Timed events: UTC instants "2026-03-02T17:00:00.000Z". All-day events: dates "2026-03-05", end exclusive.

// null in, null out: a field the source left empty stays empty instead of failing the whole item.
fun instant(value) =
    if (value == null) null
    else ((value as DateTime) >> "UTC") as String { format: "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'" }

fun day(value) =
    if (value == null) null
    else if (value is String) (if (sizeOf(value) >= 10) value[0 to 9] else value)
    else if (value is Date) value as String { format: "yyyy-MM-dd" }
    else ((value as DateTime) >> "UTC") as String { format: "yyyy-MM-dd" }

fun addDays(date, days: Number) =
    if (date == null) null
    else ((date as Date) + ("P$(days)D" as Period)) as String { format: "yyyy-MM-dd" }

// Keeps line breaks (a description is multi-line) but not the spacing noise HTML and editors add.
fun tidy(text): String =
    trim(((text default "") replace /[ \t\u00a0]+/ with " ") replace /\s*\n\s*(\n\s*)+/ with "\n\n")

// Good enough for what Outlook wraps around a text body; the sidecar itself compares bodies by their text.
fun htmlToText(html: String): String = do {
    // Line breaks in HTML source are spaces; only tags break lines.
    var flat = html replace /[\r\n]+/ with " "
    var noHead = flat replace /(?is)<(head|style|script)\b.*?<\/\1>/ with ""
    var breaks = noHead replace /(?i)<br\s*\/?>|<\/(p|div|li|tr|h[1-6])>/ with "\n"
    var noTags = breaks replace /<[^>]*>/ with ""
    var entities = ((((noTags replace /&nbsp;/ with " ") replace /&lt;/ with "<") replace /&gt;/ with ">")
        replace /&quot;/ with "\"") replace /&#39;/ with "'"
    ---
    entities replace /&amp;/ with "&"
}

fun bodyText(body): String =
    if (body == null) ""
    else if (lower(body.contentType default "text") == "text") tidy(body.content)
    else tidy(htmlToText(body.content default ""))

fun fromSalesforceShowAs(value): String = value match {
    case "OutOfOffice" -> "oof"
    case "Free" -> "free"
    else -> "busy"
}

// As the sidecar folds them: workingElsewhere is working but not here, so Free (as Dynamics maps it); tentative and
// unknown are Busy.
fun toSalesforceShowAs(value): String = value match {
    case "oof" -> "OutOfOffice"
    case "free" -> "Free"
    case "workingElsewhere" -> "Free"
    else -> "Busy"
}

fun fromSalesforce(record) = do {
    var allDay = record.IsAllDayEvent default false
    // As the sidecar reads an all-day Event: ActivityDate (else the start's date), then DurationInMinutes in whole
    // days, else EndDateTime's date as the last day (never before the first), else one day; the end is exclusive.
    var allDayStart = day(record.ActivityDate default (record.StartDateTime default record.ActivityDateTime))
    var allDayEnd =
        if (allDayStart == null) null
        else if (record.DurationInMinutes != null) addDays(allDayStart, max([1, ceil(record.DurationInMinutes / 1440)]))
        else if (record.EndDateTime != null) addDays(max([allDayStart, day(record.EndDateTime)]), 1)
        else addDays(allDayStart, 1)
    var timedStart = record.StartDateTime default record.ActivityDateTime
    var timedEnd =
        if (allDay or timedStart == null) null
        else if (record.EndDateTime != null) record.EndDateTime
        else (timedStart as DateTime) + ("PT$(record.DurationInMinutes default 0)M" as Period)
    ---
    {
        subject: tidy(record.Subject),
        start: if (allDay) allDayStart else instant(timedStart),
        end: if (allDay) allDayEnd else instant(timedEnd),
        isAllDay: allDay,
        location: tidy(record.Location),
        description: tidy(record.Description),
        showAs: fromSalesforceShowAs(record.ShowAs),
        isPrivate: record.IsPrivate default false
    }
}

// Graph "dateTime" has no offset; get-event is called with outlookTimeZone="UTC", so it is UTC wall time.
// "2026-03-10T15:30:00.0000000" -> "2026-03-10T15:30:00".
fun graphLocal(value) = do {
    var text = value.dateTime default ""
    ---
    if (sizeOf(text) >= 19) text[0 to 18] else null
}

fun graphDate(value) = do {
    var local = graphLocal(value)
    ---
    if (local == null) null else local[0 to 9]
}

fun graphInstant(value) =
    if (value == null) null
    else if (graphLocal(value) == null) null
    else if (upper(value.timeZone default "UTC") == "UTC") instant(graphLocal(value) ++ "Z")
    else value

fun fromOutlook(event) = do {
    var allDay = event.isAllDay default false
    ---
    {
        subject: tidy(event.subject),
        start: if (allDay) graphDate(event.start) else graphInstant(event.start),
        end: if (allDay) graphDate(event.end) else graphInstant(event.end),
        isAllDay: allDay,
        location: tidy(event.location.displayName),
        description: bodyText(event.body),
        showAs: event.showAs default "busy",
        // as the sidecar reads a Graph event: every sensitivity that hides details is private (Salesforce has one flag)
        isPrivate: ["private", "confidential", "personal"] contains (event.sensitivity default "normal")
    }
}

// Cut to a Salesforce field's limit, without the spaces the cut leaves at its end (Unicode ones too: (?U)), as the
// sidecar writes it.
fun clip(text, length: Number) =
    if (text == null or sizeOf(text) <= length) text else (text[0 to length - 1] replace /(?U)\s+$/ with "")

// Salesforce Event fields; all-day events are a date plus a whole number of days.
fun toSalesforce(item) = {
    Subject: clip(item.subject, 255),
    Location: clip(item.location, 255),
    Description: clip(item.description, 32000),
    ShowAs: toSalesforceShowAs(item.showAs),
    IsPrivate: item.isPrivate default false,
    IsAllDayEvent: item.isAllDay default false
} ++ (if (item.isAllDay default false) {
    ActivityDate: item.start as Date,
    DurationInMinutes: max([1, daysBetween(item.start as Date, item.end as Date)]) * 1440
} else {
    StartDateTime: item.start as DateTime,
    EndDateTime: item.end as DateTime
})

// A patch from /resolve-conflict arrives as JSON: dates and date-times are strings there, the connector wants them typed.
fun typedForSalesforce(patch) = patch mapObject ((value, key) ->
    // contains, written between its arguments, binds more loosely than and: each side has its own parentheses.
    (key): if ((value is String) and (["StartDateTime", "EndDateTime"] contains (key as String))) value as DateTime
        else if ((value is String) and ((key as String) == "ActivityDate")) value as Date
        else value)

fun graphTime(value: String, allDay: Boolean) =
    if (allDay) { dateTime: value ++ "T00:00:00", timeZone: p('outlook.allDayTimeZone') }
    else { dateTime: ((value as DateTime) >> "UTC") as String { format: "yyyy-MM-dd'T'HH:mm:ss" }, timeZone: "UTC" }

// Graph event properties.
fun toOutlook(item) = {
    subject: item.subject,
    body: { contentType: "text", content: item.description default "" },
    start: graphTime(item.start, item.isAllDay default false),
    end: graphTime(item.end, item.isAllDay default false),
    isAllDay: item.isAllDay default false,
    location: { displayName: item.location default "" },
    showAs: item.showAs default "busy",
    sensitivity: if (item.isPrivate default false) "private" else "normal"
}
