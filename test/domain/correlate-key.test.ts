// createKey: stable per source item, distinct across items, systems and tenants, and across copies after a delete.
import t from 'tap'
import { createKeyAfterDelete, deriveCreateKey, derivedCreateKey, isCreateKey } from '../../src/domain/correlate-key.js'

t.test('deriveCreateKey', async (t) => {
  const key = deriveCreateKey('default', 'outlook', 'AAMk=')
  t.match(key, /^css-[0-9a-f]{32}$/)
  t.equal(deriveCreateKey('default', 'outlook', 'AAMk='), key, 'stable')
  t.not(deriveCreateKey('default', 'outlook', 'aamk='), key, 'Graph ids are case-sensitive')
  t.not(deriveCreateKey('default', 'salesforce', 'AAMk='), key)
  t.not(deriveCreateKey('other', 'outlook', 'AAMk='), key)
  t.not(deriveCreateKey('default\noutlook', 'outlook', 'x'), deriveCreateKey('default', 'outlook', 'outlook\nx'))
})

t.test('isCreateKey accepts exactly what deriveCreateKey and createKeyAfterDelete make', async (t) => {
  const derived = deriveCreateKey('default', 'salesforce', '00U5g00000Xy12ZEAQ')
  t.ok(isCreateKey(derived))
  t.ok(isCreateKey(createKeyAfterDelete(derived, 1773047561000)))
  t.ok(isCreateKey(createKeyAfterDelete(derived, 1)))
  const bad = ['', 'css-', `css-${'A'.repeat(32)}`, `css-${'a'.repeat(31)}`, `css-${'a'.repeat(33)}`, `CSS-${'a'.repeat(32)}`, `resolve:AAMk=`]
  bad.push(`${derived}-0`, `${derived}-01`, `${derived}-`, `${derived}-1-2`, `${derived}-${'1'.repeat(17)}`, `${derived}.1`)
  for (const text of bad) {
    t.notOk(isCreateKey(text), JSON.stringify(text))
  }
})

t.test('the time of the last delete is appended, and taken off again to find the source item', async (t) => {
  const derived = deriveCreateKey('default', 'salesforce', '00U5g00000Xy12ZEAQ')
  t.equal(createKeyAfterDelete(derived, undefined), derived, 'the first copy keeps the derived key')
  t.equal(createKeyAfterDelete(derived, 1773047561000), `${derived}-1773047561000`)
  t.equal(derivedCreateKey(`${derived}-1773047561000`), derived)
  t.equal(derivedCreateKey(derived), derived)
  // a key of another shape (the store contract's) is never cut
  t.equal(derivedCreateKey('ck-00U-7-12345678'), 'ck-00U-7-12345678')
  // a derived key whose hex digits happen to be all decimal is still whole
  const digits = `css-${'1'.repeat(32)}`
  t.equal(derivedCreateKey(digits), digits)
  t.equal(derivedCreateKey(`${digits}-3`), digits)
})
