// Valid, realistic request bodies per endpoint: the fuzzer's starting points, which it then perturbs field by field.
// Shapes follow the Graph and Salesforce references (every id, key and time made up).

const graphNotification = () => ({
  subscriptionId: '3f6d9a41-7b2e-4c8f-9d15-6a0e2b7c4d11',
  subscriptionExpirationDateTime: '2026-03-12T08:00:00.0000000+00:00',
  changeType: 'updated',
  resource: 'Users/5b1e0c7a-2f4d-4e8b-a6c3-91d2e4f0b7aa/Events/AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=',
  resourceData: {
    '@odata.type': '#Microsoft.Graph.Event',
    '@odata.id': 'Users/5b1e0c7a-2f4d-4e8b-a6c3-91d2e4f0b7aa/Events/AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=',
    '@odata.etag': 'W/"DwAAABYAAAC7kq2mZ0bVQ4v1xYtGmJ3fAAAx9k1c"',
    id: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=',
  },
  clientState: 'c3-sync-7Qw2',
  tenantId: 'a1c4e8f2-3b5d-4f6a-8c9e-0d1f2a3b4c5d',
})

const changeEventHeader = (changeType: string, recordIds: string[], sequenceNumber = 1) => ({
  entityName: 'Event',
  recordIds,
  changeType,
  changeOrigin: 'com/salesforce/api/soap/62.0;client=SfdcInternalAPI/',
  transactionKey: '000b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d',
  sequenceNumber,
  commitTimestamp: 1773047561000,
  commitNumber: 1180442093377,
  commitUser: '0055g0000012345AAA',
  nulledFields: [],
  diffFields: [],
  changedFields: [],
})

/** Decoded Pub/Sub CREATE with the full Event body. */
const decodedCreate = () => ({
  ChangeEventHeader: changeEventHeader('CREATE', ['00U5g00000Xy12ZEAQ']),
  Subject: 'Quarterly review – Northwind',
  Location: 'Room 4.12',
  Description: 'Agenda in the account plan.',
  IsAllDayEvent: false,
  ActivityDateTime: 1773151200000,
  ActivityDate: 1773100800000,
  DurationInMinutes: 60,
  OwnerId: '0055g0000012345AAA',
  Type: 'Meeting',
  IsPrivate: false,
  ShowAs: 'Busy',
  IsChild: false,
  IsGroupEvent: true,
  GroupEventType: '1',
  CreatedDate: 1773047561000,
  LastModifiedDate: 1773047561000,
  LastModifiedById: '0055g0000012345AAA',
  RecurrenceActivityId: null,
  IsRecurrence: false,
  Recurrence2PatternText: null,
})

/** CometD UPDATE by the integration (an echo). */
const cometdUpdate = () => ({
  schema: 'pR3kVb0qT1x9yLmNo2CdEf',
  payload: {
    ChangeEventHeader: {
      ...changeEventHeader('UPDATE', ['00U5g00000Xy12ZEAQ']),
      changeOrigin: 'com/salesforce/api/rest/62.0;client=c3-sync',
      commitUser: '0055g00000INTEGAAQ',
      changedFields: ['ActivityDateTime', 'Location', 'LastModifiedDate', 'LastModifiedById'],
    },
    ActivityDateTime: '2026-03-10T15:00:00.000Z',
    Location: null,
    LastModifiedDate: '2026-03-09T09:30:05.000Z',
    LastModifiedById: '0055g00000INTEGAAQ',
  },
  event: { replayId: 48213377 },
})

const wrappedDelete = () => ({
  data: {
    schema: 'pR3kVb0qT1x9yLmNo2CdEf',
    payload: { ChangeEventHeader: changeEventHeader('DELETE', ['00U5g00000Xy12ZEAQ']), Subject: null, LastModifiedDate: null },
    event: { replayId: 48213390 },
  },
  channel: '/data/EventChangeEvent',
})

const gapUpdate = () => ({ ChangeEventHeader: { ...changeEventHeader('GAP_UPDATE', ['00U5g00000Xy12ZEAQ']), changeOrigin: '' }, Subject: null })
const gapOverflow = () => ({ ChangeEventHeader: changeEventHeader('GAP_OVERFLOW', ['000000000000000AAA'], 3) })
const fanOut = () => ({ ChangeEventHeader: changeEventHeader('UPDATE', ['00U5g00000Xy12ZEAQ', '00U5g00000Xy13AEAQ']), Subject: 'Moved' })

const canonicalFields = () => ({
  subject: 'Quarterly review',
  start: '2026-03-10T14:30:00.000Z',
  end: '2026-03-10T15:30:00.000Z',
  isAllDay: false,
  location: 'Room 4.12',
  description: 'Agenda',
  showAs: 'busy',
  isPrivate: false,
  attendees: ['ana@example.com', 'bo@example.com'],
})

const graphFields = () => ({
  subject: '  Quarterly   review ',
  start: { dateTime: '2026-03-10T15:30:00.0000000', timeZone: 'W. Europe Standard Time' },
  end: { dateTime: '2026-03-10T16:30:00.0000000', timeZone: 'Europe/Berlin' },
  body: { contentType: 'html', content: '<html><body><p>Agenda&nbsp;<b>today</b></p></body></html>' },
  location: 'Room 4.12',
})

const graphEvent = () => ({
  '@odata.etag': 'W/"DwAAABYAAAC7kq2mZ0bVQ4v1xYtGmJ3fAAAx9k1c"',
  id: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=',
  changeKey: 'DwAAABYAAAC7kq2mZ0bVQ4v1xYtGmJ3fAAAx9k1c',
  lastModifiedDateTime: '2026-03-09T09:31:10.4471032Z',
  subject: 'Quarterly review',
  body: { contentType: 'html', content: '<p>Agenda</p>' },
  start: { dateTime: '2026-03-10T15:30:00.0000000', timeZone: 'W. Europe Standard Time' },
  end: { dateTime: '2026-03-10T16:30:00.0000000', timeZone: 'W. Europe Standard Time' },
  originalStartTimeZone: 'W. Europe Standard Time',
  isAllDay: false,
  isCancelled: false,
  location: { displayName: 'Room 4.12', locationType: 'default' },
  showAs: 'busy',
  sensitivity: 'normal',
  type: 'singleInstance',
  seriesMasterId: null,
  attendees: [
    { type: 'required', status: { response: 'accepted', time: '2026-03-09T10:00:00Z' }, emailAddress: { name: 'Ana', address: 'Ana@Example.com' } },
  ],
  organizer: { emailAddress: { name: 'Bo', address: 'bo@example.com' } },
})

const salesforceRecord = () => ({
  attributes: { type: 'Event', url: '/services/data/v62.0/sobjects/Event/00U5g00000Xy12ZEAQ' },
  Id: '00U5g00000Xy12ZEAQ',
  Subject: 'Quarterly review',
  StartDateTime: '2026-03-10T14:30:00.000+0000',
  EndDateTime: '2026-03-10T15:30:00.000+0000',
  ActivityDateTime: '2026-03-10T14:30:00.000+0000',
  ActivityDate: '2026-03-10',
  DurationInMinutes: 60,
  IsAllDayEvent: false,
  Location: 'Room 4.12',
  Description: 'Agenda',
  ShowAs: 'Busy',
  IsPrivate: false,
  IsChild: false,
  GroupEventType: '1',
  IsRecurrence2: false,
  LastModifiedDate: '2026-03-09T09:30:05.000+0000',
})

const allDayRecord = () => ({ ...salesforceRecord(), IsAllDayEvent: true, ActivityDate: '2026-03-12', DurationInMinutes: 2880, StartDateTime: null, EndDateTime: null })

const dedupeSeeds = (): unknown[] => [
  {
    system: 'outlook',
    itemId: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=',
    version: 'DwAAABYAAAC7kq2mZ0bVQ4v1xYtGmJ3fAAAx9k1c',
    modifiedAt: '2026-03-09T09:30:05Z',
    changeType: 'updated',
    fields: graphFields(),
    leaseMs: 30_000,
  },
  { tenant: 'pair-a', system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ', version: '000b1c2d:1', modifiedAt: 1773047561000, fingerprint: 'sha256:abc' },
  { system: 'crm-x', itemId: 'x-1', version: '7', changeType: 'deleted', fields: canonicalFields() },
  { tenant: 'pair-a', notification: graphNotification(), fields: canonicalFields() },
  { notification: { ...graphNotification(), changeType: 'created' }, leaseMs: 1_000 },
  { changeEvent: decodedCreate(), fields: canonicalFields() },
  { changeEvent: cometdUpdate() },
  { changeEvent: wrappedDelete(), fingerprint: 'f' },
  { changeEvent: gapUpdate(), fields: canonicalFields() },
  { changeEvent: gapOverflow() },
]

export const SEEDS: Record<string, () => unknown[]> = {
  'POST /dedupe': dedupeSeeds,
  'POST /dedupe/commit': () => [
    { system: 'outlook', itemId: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=', token: '1.5b0d7c1e-8f7a-4b8e-9a6f-2f1d3c4b5a69', version: 'v2', modifiedAt: '2026-03-09T09:30:05Z', fields: graphFields() },
    { tenant: 'pair-a', system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ', token: '3.abc', fingerprint: 'sha256:abc', modifiedAt: 1773047561000 },
  ],
  'POST /dedupe/release': () => [
    { system: 'outlook', itemId: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=', token: '1.5b0d7c1e-8f7a-4b8e-9a6f-2f1d3c4b5a69' },
    { tenant: 'pair-a', system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ', token: 'fail-open:x' },
  ],
  'POST /dedupe/batch': () => [
    { tenant: 'pair-b', events: dedupeSeeds() },
    { events: [{ changeEvent: fanOut() }, { notification: graphNotification() }, { notification: graphNotification() }] },
  ],
  'POST /correlate': () => [
    {
      system: 'outlook',
      itemId: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=',
      changeType: 'updated',
      fields: canonicalFields(),
      counterpartHint: { system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ' },
      targetFields: canonicalFields(),
      leaseMs: 60_000,
    },
    {
      tenant: 'pair-a',
      system: 'salesforce',
      itemId: '00U5g00000Xy12ZEAQ',
      changeType: 'created',
      record: salesforceRecord(),
      changedBy: '0055g00000INTEGAAQ',
      changeOrigin: 'com/salesforce/api/rest/62.0;client=c3-sync',
      targetEvent: graphEvent(),
    },
    { system: 'outlook', itemId: 'AAMk-series=', changeType: 'created', event: { ...graphEvent(), type: 'seriesMaster' }, seriesRole: 'series_master' },
    { system: 'outlook', itemId: 'AAMk-deleted=', changeType: 'deleted', fingerprint: 'fp', targetRecord: allDayRecord() },
    { system: 'salesforce', itemId: '00U5g00000Xy13AEAQ', changeType: 'updated', isChild: true, record: { ...salesforceRecord(), Id: '00U5g00000Xy13AEAQ', IsChild: true } },
    { notification: graphNotification(), event: graphEvent() },
    { changeEvent: cometdUpdate() },
    { changeEvent: decodedCreate() },
  ],
  'POST /correlate/confirm': () => [
    {
      source: { system: 'outlook', itemId: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=' },
      target: { system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ' },
      written: { fields: canonicalFields() },
      baseline: canonicalFields(),
      reservationToken: '5b0d7c1e-8f7a-4b8e-9a6f-2f1d3c4b5a69',
    },
    { tenant: 'pair-a', source: { system: 'salesforce', itemId: '00U5g00000Xy12ZEAQ' }, target: { system: 'outlook', itemId: 'AAMk=' }, written: { event: graphEvent() } },
    { source: { system: 'outlook', itemId: 'AAMk=' }, target: { system: 'salesforce', itemId: '00U1' }, written: { record: salesforceRecord() }, deleted: false },
    { source: { system: 'outlook', itemId: 'AAMk2=' }, target: { system: 'salesforce', itemId: '00U2' }, written: { fingerprint: 'fp' }, deleted: true },
  ],
  'POST /resolve-conflict': () => [
    {
      policy: 'three-way-merge',
      fieldOwners: { start: 'outlook', description: 'salesforce' },
      deletePolicy: 'update-wins',
      outlook: { itemId: 'AAMkAGQ1ZTM3NWYwLTk4ZjYtEvt7QAAA=', event: { ...graphEvent(), subject: 'Outlook title' } },
      salesforce: { itemId: '00U5g00000Xy12ZEAQ', record: { ...salesforceRecord(), ShowAs: 'OutOfOffice' } },
      base: canonicalFields(),
    },
    {
      tenant: 'pair-a',
      policy: 'last-modified-wins',
      outlook: { fields: { ...canonicalFields(), start: '2026-03-12', end: '2026-03-14', isAllDay: true }, modifiedAt: 1773047561000 },
      salesforce: { fields: canonicalFields(), modifiedAt: '2026-03-09T13:00:00+02:00' },
    },
    { policy: 'field-ownership', deletePolicy: 'review', outlook: { deleted: true }, salesforce: { record: allDayRecord() }, base: null },
    // ids no other seed links, so the stored-baseline lookup finds nothing
    { policy: 'outlook-wins', outlook: { event: { ...graphEvent(), id: 'AAMk-unlinked=' } }, salesforce: { deleted: true, itemId: '00U5g00000Zz99ZEAQ' } },
  ],
}
