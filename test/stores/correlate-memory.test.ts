// Runs the CorrelateStore contract against the memory store, plus what only the memory store promises (its bound).
import t from 'tap'
import { MemoryCorrelateStore } from '../../src/stores/memory/correlate.js'
import { runCorrelateContract } from './correlate-contract.js'

const store = new MemoryCorrelateStore({ maxItems: 1_000 })
runCorrelateContract(t, () => store)

t.test('the bound evicts whole pairs, never half a link', async (t) => {
  const small = new MemoryCorrelateStore({ maxItems: 2 })
  const base = { tenant: 't', echoWindowMs: 1_000, tombstoneTtlMs: 1_000, now: 1 }
  for (let i = 0; i < 5; i++) {
    await small.confirm({ ...base, source: { system: 'outlook', itemId: `o${i}` }, target: { system: 'salesforce', itemId: `s${i}` } })
  }
  for (let i = 0; i < 5; i++) {
    const fromOutlook = await small.getLink('t', { system: 'outlook', itemId: `o${i}` }, 1)
    const fromSalesforce = await small.getLink('t', { system: 'salesforce', itemId: `s${i}` }, 1)
    t.equal(fromOutlook === null, fromSalesforce === null, `pair ${i} is kept or dropped whole`)
  }
  t.ok((await small.getLink('t', { system: 'outlook', itemId: 'o4' }, 1)) !== null, 'the newest pair is kept')
})
