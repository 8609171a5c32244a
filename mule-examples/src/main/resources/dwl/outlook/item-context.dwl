%dw 2.0
// What the Outlook -> Salesforce steps need to know about one message from the pre-filter, read once.
// The message: { kind: "change", tenantId, subscriptionId, itemId, resource, changeType, etag, etags, collapsed, ... }.
output application/java
var resource = payload.resource default ""
// "Users/{id}/Events/{id}" or "Users('{id}')/Events('{id}')": Graph documents both spellings.
var user = resource scan /(?i)users(?:\('|\/)([^'\/)]+)/
// Without an etag the pre-filter names the version changeType@lastEnqueuedAt; so does this flow. A delete's version is
// "deleted:" and its etag, as the sidecar versions a Graph delete: the etag may be that of an update already
// committed, and the delete must not be its duplicate.
var version = if (payload.etag == null) (payload.changeType default "") ++ "@" ++ (payload.lastEnqueuedAt default "")
    else if (payload.changeType == "deleted") "deleted:" ++ payload.etag
    else payload.etag
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
