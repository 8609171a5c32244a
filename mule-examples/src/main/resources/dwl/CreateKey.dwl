%dw 2.0
// The createKey the sidecar hands out with a create reservation ("css-" and 32 lower-case hex digits, then "-" and the
// time of the delete on a copy made after an earlier pair of the item was deleted). Our creates
// write it into the Graph event's transactionId and the Salesforce Event's Calendar_Sync_Key__c; when the new item's
// changes come back, the flows send it as counterpartHint.createKey. Anything else found there (a transactionId
// another app chose, the "resolve:" keys of sync-resolve-conflict) is not ours and is not sent: the sidecar would
// refuse it with a 400.

fun isCreateKey(value): Boolean =
    if (value is String) (value matches /^css-[0-9a-f]{32}(-[1-9][0-9]{0,15})?$/)
    else false
