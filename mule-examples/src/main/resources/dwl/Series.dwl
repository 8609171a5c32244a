%dw 2.0
// How an item sits in a recurring series, read from the native item, for /correlate's `seriesRole` (sent because the
// flows send canonical fields, which carry no series facts). Unknown: null, and the sidecar reads what it can.

fun outlookSeriesRole(event) = event."type" match {
    case "singleInstance" -> "single"
    case "seriesMaster" -> "series_master"
    case "occurrence" -> "occurrence"
    case "exception" -> "exception"
    else -> null
}

// A Lightning series pattern record (GroupEventType 3) or a Classic recurrence master is the series itself.
fun salesforceSeriesRole(record) =
    if (record == null) null
    else if (record.GroupEventType == "3" or record.IsRecurrence == true) "series_master"
    else if (not isEmpty(record.Recurrence2PatternText) and record.IsRecurrence2Exception != true) "series_master"
    else if (record.IsRecurrence2Exception == true) "exception"
    else if (record.IsRecurrence2 == true or not isEmpty(record.RecurrenceActivityId)) "occurrence"
    else "single"
