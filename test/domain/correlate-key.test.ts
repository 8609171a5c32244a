// createKey: stable per source item, distinct across items, systems and tenants.
import t from 'tap'
import { deriveCreateKey } from '../../src/domain/correlate-key.js'

t.test('deriveCreateKey', async (t) => {
  const key = deriveCreateKey('default', 'outlook', 'AAMk=')
  t.match(key, /^css-[0-9a-f]{32}$/)
  t.equal(deriveCreateKey('default', 'outlook', 'AAMk='), key, 'stable')
  t.not(deriveCreateKey('default', 'outlook', 'aamk='), key, 'Graph ids are case-sensitive')
  t.not(deriveCreateKey('default', 'salesforce', 'AAMk='), key)
  t.not(deriveCreateKey('other', 'outlook', 'AAMk='), key)
  t.not(deriveCreateKey('default\noutlook', 'outlook', 'x'), deriveCreateKey('default', 'outlook', 'outlook\nx'))
})
