// Echo by source: the integration user (15- or 18-character ids) and the changeOrigin client id.
import t from 'tap'
import { isEchoBySource, readChangeOriginClient, sameSalesforceId } from '../../src/domain/correlate-echo.js'

const settings = { salesforceIntegrationUserIds: ['0055g00000INTEGAAQ'], salesforceClientId: 'c3-sync' }

t.test('readChangeOriginClient takes the client= value as written', async (t) => {
  t.equal(readChangeOriginClient('com/salesforce/api/rest/62.0;client=c3-sync'), 'c3-sync')
  t.equal(readChangeOriginClient('com/salesforce/api/soap/62.0;client=SfdcInternalAPI/'), 'SfdcInternalAPI/')
  t.equal(readChangeOriginClient('com/salesforce/api/rest/62.0'), undefined)
  t.equal(readChangeOriginClient(''), undefined)
  t.equal(readChangeOriginClient(undefined), undefined)
})

t.test('sameSalesforceId matches the 15- and 18-character forms, case-sensitively', async (t) => {
  t.ok(sameSalesforceId('0055g00000INTEG', '0055g00000INTEGAAQ'))
  t.ok(sameSalesforceId('0055g00000INTEGAAQ', '0055g00000INTEG'))
  t.notOk(sameSalesforceId('0055g00000integ', '0055g00000INTEGAAQ'))
  t.notOk(sameSalesforceId('0055g00000INTEGAAQ', '0055g00000OTHERAAQ'))
})

t.test('isEchoBySource', async (t) => {
  t.ok(isEchoBySource({ changedBy: '0055g00000INTEGAAQ' }, settings), 'the integration user')
  t.ok(isEchoBySource({ changedBy: '0055g00000INTEG' }, settings), 'its 15-character form')
  t.ok(isEchoBySource({ changeOrigin: 'com/salesforce/api/rest/62.0;client=c3-sync' }, settings), 'our client id')
  t.notOk(isEchoBySource({ changeOrigin: 'com/salesforce/api/rest/62.0;client=c3-sync-2' }, settings), 'exactly, not a prefix')
  t.notOk(isEchoBySource({ changeOrigin: 'com/salesforce/api/soap/62.0;client=SfdcInternalAPI/' }, settings), 'a person in Lightning')
  t.notOk(isEchoBySource({ changedBy: '0055g0000012345AAA' }, settings), 'another user')
  t.notOk(isEchoBySource({ changeOrigin: 'x;client=' }, { salesforceIntegrationUserIds: [] }), 'no client configured')
  t.notOk(isEchoBySource({}, settings))
})
