// createKey: stable per source item, distinct across items, systems and tenants.
import t from 'tap'
import { deriveCreateKey, isCreateKey } from '../../src/domain/correlate-key.js'

t.test('deriveCreateKey', async (t) => {
  const key = deriveCreateKey('default', 'outlook', 'AAMk=')
  t.match(key, /^css-[0-9a-f]{32}$/)
  t.equal(deriveCreateKey('default', 'outlook', 'AAMk='), key, 'stable')
  t.not(deriveCreateKey('default', 'outlook', 'aamk='), key, 'Graph ids are case-sensitive')
  t.not(deriveCreateKey('default', 'salesforce', 'AAMk='), key)
  t.not(deriveCreateKey('other', 'outlook', 'AAMk='), key)
  t.not(deriveCreateKey('default\noutlook', 'outlook', 'x'), deriveCreateKey('default', 'outlook', 'outlook\nx'))
})

t.test('isCreateKey accepts exactly what deriveCreateKey makes', async (t) => {
  t.ok(isCreateKey(deriveCreateKey('default', 'salesforce', '00U5g00000Xy12ZEAQ')))
  for (const text of ['', 'css-', `css-${'A'.repeat(32)}`, `css-${'a'.repeat(31)}`, `css-${'a'.repeat(33)}`, `CSS-${'a'.repeat(32)}`, `resolve:AAMk=`]) {
    t.notOk(isCreateKey(text), JSON.stringify(text))
  }
})
