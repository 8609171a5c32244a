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

t.test('the bound passes over a live create reservation, so a second worker is told create_in_flight', async (t) => {
  const small = new MemoryCorrelateStore({ maxItems: 3 })
  const decide = (itemId: string, now: number, leaseMs = 60_000) =>
    small.decide({
      tenant: 't',
      system: 'outlook',
      itemId,
      changeType: 'created',
      echoBySource: false,
      token: `tok-${itemId}-${now}`,
      createKey: `ck-${itemId}`,
      leaseMs,
      createKeyTtlMs: 600_000,
      echoWindowMs: 1_000,
      now,
    })
  t.equal((await decide('held', 1)).action, 'create')
  // others whose reservations lapse at once (their creates were made or given up), so the bound has entries to drop
  for (let i = 0; i < 10; i++) t.equal((await decide(`other-${i}`, 2 + i, 1)).action, 'create')
  t.match(await decide('held', 20), { action: 'skip', reason: 'create_in_flight' }, 'the reservation outlived a burst of other creates')
})
