%dw 2.0
// What the Outlook -> Salesforce steps need to know about one message from the pre-filter, read once.
// The message: { kind: "change", tenantId, subscriptionId, itemId, resource, changeType, etag, etags, collapsed, ... }.
output application/java
var resource = payload.resource default ""
// "Users/{id}/Events/{id}" or "Users('{id}')/Events('{id}')": Graph documents both spellings.
var user = resource scan /(?i)users(?:\('|\/)([^'\/)]+)/
// Without an etag the pre-filter names the version changeType@lastEnqueuedAt; so does this flow.
var version = payload.etag default ((payload.changeType default "") ++ "@" ++ (payload.lastEnqueuedAt default ""))
---
{
    sourceSystem: "outlook",
    itemId: payload.itemId,
    userId: if (isEmpty(user)) p('outlook.defaultUserId') else user[0][1],
    changeType: payload.changeType,
    isDelete: payload.changeType == "deleted",
    etag: version,
    collapsed: payload.collapsed default 1
}
