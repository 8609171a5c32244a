// A pre-filter process killed (SIGKILL) in the middle of a burst: after the restart the item is forwarded, none lost.
import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { EventHubProducerClient } from '@azure/event-hubs'
import { Redis } from 'ioredis'
import t from 'tap'
import { RedisCheckpointStore } from '../../src/prefilter/redis-checkpoint-store.js'
import { AmqpPeer } from '../support/amqp-peer.js'
import { RedisServer, redisSkipReason } from '../support/redis-server.js'
import { change, collection, ForwardTarget, lifecycle, prefilterConfig, waitUntil } from './helpers.js'

const ROOT = resolve(import.meta.dirname, '../..')
const CHILD = resolve(import.meta.dirname, 'prefilter-child.ts')

interface Child {
  process: ChildProcess
  open: number
  exited: Promise<number | null>
}

function spawnChild(argument: unknown): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(argument)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const child: Child = { process: proc, open: 0, exited: new Promise((done) => proc.once('exit', (code) => done(code))) }
  let buffer = ''
  proc.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8')
    const lines = buffer.split('\n')
    buffer = lines.pop() ?? ''
    for (const line of lines) {
      try {
        child.open = (JSON.parse(line) as { open: number }).open
      } catch {
        // not a status line
      }
    }
  })
  return child
}

t.test('kill and restart in the middle of a burst', { skip: redisSkipReason() }, async (t) => {
  const server = await RedisServer.start()
  const redis = new Redis(server.url)
  const peer = await AmqpPeer.start({ hubs: { crash: 1 } })
  const target = await ForwardTarget.start()
  const producer = new EventHubProducerClient(peer.connectionString('crash'), { retryOptions: { maxRetries: 0, timeoutInMs: 3_000 } })
  const children: Child[] = []
  t.teardown(async () => {
    for (const child of children) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL')
      await child.exited
    }
    await producer.close()
    await target.stop()
    await peer.stop()
    await redis.quit()
    await server.destroy()
  })
  const store = new RedisCheckpointStore(redis)
  const checkpoint = async () => (await store.listCheckpoints('localhost', 'crash', '$Default'))[0]?.sequenceNumber
  const argument = {
    redisUrl: server.url,
    config: prefilterConfig({ connectionString: peer.connectionString('crash'), forwardUrl: target.url, checkpointStore: 'redis', quietMs: 1_000, maxWaitMs: 10_000 }),
  }

  const first = spawnChild(argument)
  children.push(first)
  await waitUntil(() => first.open === 1 && peer.receivers('crash').length === 1, 'the first process to read the partition', 15_000)
  await producer.sendBatch([
    { body: collection(change({ itemId: 'K', changeType: 'created', etag: 'k1' })) },
    { body: collection(change({ itemId: 'K', etag: 'k2' })) },
    { body: collection(lifecycle('missed')) },
  ])
  // The lifecycle message goes out at once: the process has read the burst's first events.
  await waitUntil(() => target.bodies().some((b) => b.kind === 'lifecycle'), 'the lifecycle message')
  first.process.kill('SIGKILL')
  await first.exited
  t.equal(target.changesFor('K').length, 0, 'killed inside the quiet window: K was not forwarded')
  t.equal(await checkpoint(), -1, 'and nothing was checkpointed past it (only the anchor before the first event)')

  await producer.sendBatch([{ body: collection(change({ itemId: 'K', etag: 'k3' })) }, { body: collection(change({ itemId: 'M', etag: 'm1' })) }])
  const second = spawnChild(argument)
  children.push(second)
  await waitUntil(() => target.changesFor('K').length > 0 && target.changesFor('M').length > 0, 'K and M after the restart', 20_000)
  const k = target.changesFor('K')
  t.equal(k.length, 1, 'K once')
  t.same([k[0].changeType, k[0].etag, k[0].etags, k[0].collapsed], ['created', 'k3', ['k1', 'k2', 'k3'], 3])
  t.ok(target.bodies().filter((b) => b.kind === 'lifecycle').length >= 1, 'the lifecycle message again or not: never lost')
  await waitUntil(async () => (await checkpoint()) === 4, 'the checkpoint at the last event')

  second.process.kill('SIGTERM')
  t.equal(await second.exited, 0, 'a graceful stop exits cleanly')
})
