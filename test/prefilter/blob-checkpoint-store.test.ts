// The official blob checkpoint store against Azurite (from npm, loopback, in memory, telemetry off).
import { EventHubProducerClient } from '@azure/event-hubs'
import { BlobServiceClient } from '@azure/storage-blob'
import { Registry } from 'prom-client'
import t from 'tap'
import { createBlobCheckpointStore } from '../../src/prefilter/blob-checkpoint-store.js'
import { startPrefilter } from '../../src/prefilter/index.js'
import { AmqpPeer } from '../support/amqp-peer.js'
import { Azurite, azuriteSkipReason } from '../support/azurite.js'
import { checkpointStoreContract } from './checkpoint-store-contract.js'
import { change, collection, fastTuning, ForwardTarget, prefilterConfig, silentLogger, waitUntil } from './helpers.js'

t.test('blob', { skip: azuriteSkipReason() }, async (t) => {
  const azurite = await Azurite.start()
  t.teardown(() => azurite.stop())

  t.test('the container is created when missing', async (t) => {
    await createBlobCheckpointStore(azurite.connectionString, 'made-by-store')
    const exists = await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('made-by-store').exists()
    t.ok(exists)
  })

  checkpointStoreContract(t, 'blob', () => createBlobCheckpointStore(azurite.connectionString, 'checkpoints'), {
    strictFirstClaim: false,
    validatesCheckpoints: false,
  })

  t.test('the pre-filter checkpoints into blobs and resumes from them', async (t) => {
    const peer = await AmqpPeer.start({ hubs: { graph: 1 } })
    const target = await ForwardTarget.start()
    const producer = new EventHubProducerClient(peer.connectionString('graph'))
    t.teardown(async () => {
      await producer.close()
      await target.stop()
      await peer.stop()
    })
    const config = prefilterConfig({
      connectionString: peer.connectionString('graph'),
      forwardUrl: target.url,
      checkpointStore: 'blob',
      blobConnectionString: azurite.connectionString,
      blobContainer: 'prefilter',
    })
    const run = () => startPrefilter(config, { logger: silentLogger(), registry: new Registry(), shutdownGraceMs: 1_000, tuning: fastTuning() })
    const store = await createBlobCheckpointStore(azurite.connectionString, 'prefilter')
    const checkpointed = async () => (await store.listCheckpoints('localhost', 'graph', '$Default'))[0]?.sequenceNumber

    const first = await run()
    await producer.sendBatch([{ body: collection(change({ itemId: 'Z', etag: 'z1' })) }, { body: collection(change({ itemId: 'Z', etag: 'z2' })) }])
    await waitUntil(async () => (await checkpointed()) === 1, 'a checkpoint blob at event 1')
    await first.close()
    await producer.sendBatch([{ body: collection(change({ itemId: 'W', etag: 'w1' })) }])
    const second = await run()
    t.teardown(() => second.close())
    await waitUntil(() => target.changesFor('W').length === 1, 'W after the restart')
    t.equal(target.changesFor('Z').length, 1, 'Z is not read again: the restart resumed from the blob checkpoint')
    await waitUntil(async () => (await checkpointed()) === 2, 'the checkpoint at event 2')
  })
})
