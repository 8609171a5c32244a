// Series and child-event facts read from Graph events, Salesforce records and change event payloads.
import t from 'tap'
import { readGraphSeries, readSalesforceSeries, readSeriesFacts } from '../../src/domain/correlate-series.js'

t.test('Graph: type decides; seriesMasterId and recurrence stand in when type is missing', async (t) => {
  t.same(readGraphSeries({ type: 'singleInstance' }), { role: 'single', child: false, masterId: undefined })
  t.same(readGraphSeries({ type: 'constructor' }), { child: false }, 'an inherited property name is no role')
  t.same(readGraphSeries({ type: 'toString', seriesMasterId: 'M' }), { role: 'occurrence', child: false, masterId: 'M' })
  t.same(readGraphSeries({ type: 'seriesMaster', recurrence: {} }).role, 'series_master')
  t.same(readGraphSeries({ type: 'occurrence', seriesMasterId: 'M1' }), { role: 'occurrence', child: false, masterId: 'M1' })
  t.same(readGraphSeries({ type: 'exception', seriesMasterId: 'M1' }).role, 'exception')
  t.same(readGraphSeries({ seriesMasterId: 'M1' }).role, 'occurrence')
  t.same(readGraphSeries({ recurrence: { pattern: {} } }).role, 'series_master')
  t.same(readGraphSeries({ subject: 'x' }), { child: false })
})

t.test('Salesforce: series records, occurrences, exceptions, classic series, children', async (t) => {
  t.equal(readSalesforceSeries({ GroupEventType: '3', Recurrence2PatternText: 'FREQ=WEEKLY' }).role, 'series_master')
  t.equal(readSalesforceSeries({ IsRecurrence2: true, Recurrence2PatternText: 'FREQ=DAILY;INTERVAL=1' }).role, 'series_master')
  t.equal(readSalesforceSeries({ IsRecurrence2: true, GroupEventType: '1' }).role, 'occurrence')
  t.equal(readSalesforceSeries({ IsRecurrence2: true, IsRecurrence2Exception: true }).role, 'exception')
  t.equal(readSalesforceSeries({ IsRecurrence: true }).role, 'series_master', 'Classic master')
  t.same(readSalesforceSeries({ IsRecurrence: false, RecurrenceActivityId: '00U1' }), { role: 'occurrence', child: false, masterId: '00U1' })
  t.same(readSalesforceSeries({ IsRecurrence: false, IsRecurrence2: false, IsChild: false }), { role: 'single', child: false })
  t.same(readSalesforceSeries({ IsChild: true, IsRecurrence: false }), { role: 'single', child: true })
  t.same(readSalesforceSeries({ IsChild: null, IsRecurrence2: null }), { child: false }, 'UPDATE payload nulls say nothing')
})

t.test('readSeriesFacts: explicit values win over the natives', async (t) => {
  t.same(readSeriesFacts('salesforce', [undefined, { IsChild: true }], {}), { role: undefined, child: true, masterId: undefined })
  t.same(readSeriesFacts('salesforce', [{ IsChild: true }], { isChild: false }).child, false)
  t.same(readSeriesFacts('outlook', [{ type: 'occurrence' }], { seriesRole: 'single' }).role, 'single')
  t.same(readSeriesFacts('outlook', [{ type: 'seriesMaster' }, { type: 'occurrence' }], {}).role, 'series_master', 'the first source wins')
})
