// The correlate contract through ioredis' Cluster client, against a one-node Redis Cluster this test starts.
import t from 'tap'
import { correlateKeys } from '../../src/stores/redis/correlate.js'
import { clusterStoreForTest } from '../support/single-node-cluster.js'
import { runCorrelateContract } from './correlate-contract.js'

const setup = await clusterStoreForTest(t, 'redis cluster correlate store')
if (setup) {
  const { store, admin } = setup

  t.test('a tenant\'s keys share one slot, whatever the ids', async (t) => {
    t.equal(store.kind, 'redis-cluster')
    const a = correlateKeys('acme', { system: 'outlook', itemId: 'AAMk{x}=' })
    const b = correlateKeys('acme', { system: 'salesforce', itemId: '00U}{1' })
    const slots = await Promise.all([a.link, a.reservation, a.ledger, a.createState, b.link, b.createState].map((key) => admin.call('CLUSTER', 'KEYSLOT', key)))
    t.equal(new Set(slots).size, 1)
  })

  runCorrelateContract(t, () => store.correlate)
}
