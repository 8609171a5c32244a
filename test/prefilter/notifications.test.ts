// Reading collections and sorting notifications: validation, clientState, lifecycle, change, malformed.
import t from 'tap'
import { classifyNotification, readNotificationCollection } from '../../src/prefilter/notifications.js'
import { CLIENT_STATE, change, collection, lifecycle, SUBSCRIPTION, TENANT, validation } from './helpers.js'

const states = new Set([CLIENT_STATE, 'second-state'])
const none = new Set<string>()

t.test('a collection is read from an object, a JSON string or bytes', async (t) => {
  const body = collection(change({ itemId: 'A' }))
  t.equal(readNotificationCollection(body)?.length, 1)
  t.equal(readNotificationCollection(JSON.stringify(body))?.length, 1)
  t.equal(readNotificationCollection(Buffer.from(JSON.stringify(body)))?.length, 1)
  t.equal(readNotificationCollection(new Uint8Array(Buffer.from(JSON.stringify(body))))?.length, 1)
})

t.test('anything else is not a collection', async (t) => {
  for (const body of [undefined, null, 42, 'not json', Buffer.from([0xff, 0xfe]), [], {}, { value: {} }, Buffer.from('{"value":3}')]) {
    t.equal(readNotificationCollection(body), undefined, JSON.stringify(body))
  }
})

t.test('validation messages are dropped before the clientState check', async (t) => {
  t.same(classifyNotification(validation(), states), { kind: 'drop', reason: 'validation' })
  t.same(classifyNotification({ ...change({ itemId: 'A' }), changeType: 'Validation: probe' }, states), { kind: 'drop', reason: 'validation' })
  t.same(classifyNotification({ ...change({ itemId: 'A' }), subscriptionId: 'NA' }, none), { kind: 'drop', reason: 'validation' })
})

t.test('a wrong or missing clientState is dropped when states are configured, lifecycle ones too', async (t) => {
  t.same(classifyNotification(change({ itemId: 'A', clientState: 'forged' }), states), { kind: 'drop', reason: 'client_state' })
  t.same(classifyNotification(change({ itemId: 'A', clientState: null }), states), { kind: 'drop', reason: 'client_state' })
  t.same(classifyNotification(lifecycle('missed', 'forged'), states), { kind: 'drop', reason: 'client_state' })
  t.equal(classifyNotification(change({ itemId: 'A', clientState: 'second-state' }), states).kind, 'change')
  t.equal(classifyNotification(change({ itemId: 'A', clientState: 'anything' }), none).kind, 'change', 'no list: no check')
})

t.test('lifecycle notifications keep their event, subscription and tenant', async (t) => {
  for (const event of ['missed', 'subscriptionRemoved', 'reauthorizationRequired']) {
    t.same(classifyNotification(lifecycle(event), states), { kind: 'lifecycle', lifecycleEvent: event, subscriptionId: SUBSCRIPTION, tenantId: TENANT })
  }
  const { tenantId: _tenant, ...withoutTenant } = lifecycle('missed')
  t.same(classifyNotification(withoutTenant, states), { kind: 'lifecycle', lifecycleEvent: 'missed', subscriptionId: SUBSCRIPTION, tenantId: null })
  t.same(classifyNotification({ ...lifecycle('missed'), lifecycleEvent: '' }, states), { kind: 'drop', reason: 'malformed' })
  t.match(classifyNotification({ ...change({ itemId: 'A' }), lifecycleEvent: null }, states), { kind: 'change', itemId: 'A' }, 'a null lifecycleEvent counts as absent')
})

t.test('a change notification gives the item, the change type and the bare changeKey', async (t) => {
  const result = classifyNotification(change({ itemId: 'AAMk=', changeType: 'created', etag: 'DwAAAB' }), states)
  t.same(result, {
    kind: 'change',
    tenantId: TENANT,
    subscriptionId: SUBSCRIPTION,
    itemId: 'AAMk=',
    resource: 'Users/5b1e0c7a-2f4d-4e8b-a6c3-91d2e4f0b7aa/Events/AAMk=',
    changeType: 'created',
    etag: 'DwAAAB',
  })
  const noEtag = classifyNotification(change({ itemId: 'A', changeType: 'deleted' }), states)
  t.equal(noEtag.kind === 'change' && noEtag.etag, undefined)
})

t.test('broken change notifications are malformed, never thrown', async (t) => {
  const base = change({ itemId: 'A', etag: 'e' })
  const broken: unknown[] = [
    null,
    'text',
    [],
    { ...base, changeType: 'moved' },
    { ...base, changeType: 'constructor' },
    { ...base, changeType: undefined },
    { ...base, resourceData: undefined },
    { ...base, resourceData: { id: '' } },
    { ...base, resourceData: { id: 7 } },
    { ...base, tenantId: undefined },
    { ...base, subscriptionId: 5 },
  ]
  for (const raw of broken) t.same(classifyNotification(raw, states), { kind: 'drop', reason: 'malformed' }, JSON.stringify(raw))
})
