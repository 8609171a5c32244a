// A local AMQP 1.0 Event Hubs peer on rhea that the unmodified @azure/event-hubs SDK accepts (loopback; plain TCP,
// or TLS for the SDK's namespace + credential constructors, which never use plain TCP).
import net from 'node:net'
import rhea from 'rhea'
import type { Connection, Delivery, EventContext, Message, Receiver, Sender } from 'rhea'

const { types } = rhea

const BATCH_FORMAT = 0x80013700
const MAX_MESSAGE_SIZE = 1_048_576
const SELECTOR_KEY = 'apache.org:selector-filter:string'
const SELECTOR = /^amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time) (>=|>) '(.*)'$/
const PARTITION_SOURCE = /^([^/]+)\/ConsumerGroups\/([^/]+)\/Partitions\/([^/]+)$/
const PARTITION_TARGET = /^([^/]+)\/Partitions\/([^/]+)$/

/** One event as the peer stores it. */
export interface PeerEvent {
  sequenceNumber: number
  offset: string
  enqueuedTime: number
  partitionKey?: string
  /** the event as published (annotations of the peer are added on delivery) */
  message: Message
}

export interface ReceiverInfo {
  hub: string
  consumerGroup: string
  partitionId: string
  epoch?: number
  linkName: string
  connectionId: string
}

export interface AmqpPeerOptions {
  /** hub name -> partition count; default { [hub]: partitions } */
  hubs?: Record<string, number>
  /** the one hub when `hubs` is not given (default "graph") */
  hub?: string
  /** its partition count (default 2) */
  partitions?: number
  port?: number
  /** listen with TLS (PEM key and certificate naming localhost); the client must trust the certificate */
  tls?: { key: string; cert: string }
}

/** One $cbs put-token request as the peer received it. */
export interface PutToken {
  /** "jwt" for Azure AD tokens, "servicebus.windows.net:sastoken" for SAS */
  type: string
  /** the audience */
  name: string
  token: string
}

interface Partition {
  id: string
  events: PeerEvent[]
  nextOffset: number
}

interface Hub {
  name: string
  createdAt: Date
  partitions: Partition[]
  roundRobin: number
  rejectNext: number
}

interface ConsumerLink {
  sender: Sender
  hub: Hub
  partition: Partition
  groupKey: string
  info: ReceiverInfo
  cursor: number
}

type Position = { kind: 'offset' | 'sequence' | 'time'; inclusive: boolean; value: string }

/** Same partition for the same key; not the service's hash, only a stable one. */
function partitionForKey(key: string, count: number): number {
  let hash = 2166136261
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 16777619)
  return (hash >>> 0) % count
}

/** The filter value arrives as a described type; dig out the expression string. */
function selectorOf(source: unknown): string | undefined {
  const filter = (source as { filter?: Record<string, unknown> } | undefined)?.filter
  let value: unknown = filter?.[SELECTOR_KEY]
  for (let depth = 0; depth < 4 && value !== null && typeof value === 'object'; depth++) {
    value = (value as { value?: unknown }).value
  }
  return typeof value === 'string' ? value : undefined
}

function parsePosition(expression: string | undefined): Position | undefined {
  if (expression === undefined) return undefined
  const match = SELECTOR.exec(expression)
  if (!match) return undefined
  const kind = match[1] === 'x-opt-offset' ? 'offset' : match[1] === 'x-opt-sequence-number' ? 'sequence' : 'time'
  return { kind, inclusive: match[2] === '>=', value: match[3] }
}

/** Index of the first event to deliver for `position`, or undefined when the expression is unusable. */
function startIndex(partition: Partition, position: Position): number | undefined {
  const { events } = partition
  if (position.kind === 'offset' && position.value === '@latest') return events.length
  const bound = Number(position.value)
  if (!Number.isFinite(bound)) return undefined
  const field = (event: PeerEvent) =>
    position.kind === 'offset' ? Number(event.offset) : position.kind === 'sequence' ? event.sequenceNumber : event.enqueuedTime
  const index = events.findIndex((event) => (position.inclusive ? field(event) >= bound : field(event) > bound))
  return index === -1 ? events.length : index
}

function epochOf(properties: Record<string, unknown> | undefined): number | undefined {
  const raw = properties?.['com.microsoft:epoch']
  if (raw === undefined || raw === null) return undefined
  // rhea hands a long over as a number, or still wrapped when it could not unwrap it
  const value = typeof raw === 'object' && 'value' in raw ? (raw as { value: unknown }).value : raw
  const epoch = Number(value)
  return Number.isFinite(epoch) ? epoch : undefined
}

/**
 * Rejects without settling: rhea merges a run of dispositions into one range and, for a run of one, does not compare
 * the next outcome, so a settled reject followed by an accept could reach the client as two rejects. Rejects and
 * accepts differ in `settled`, which always splits the range.
 */
function refuse(delivery: Delivery | undefined, condition: string, description: string): void {
  const outcomes = rhea.message as unknown as { rejected(fields: unknown): { described(): unknown } }
  delivery?.update(false, outcomes.rejected({ error: { condition, description } }).described() as never)
}

const bodyBytes = (body: unknown): Buffer => (Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body), 'utf8'))

/** Decodes a stored event's data-section body as JSON when it is JSON. */
export function decodePeerBody(event: PeerEvent): unknown {
  const body = event.message.body as { typecode?: number; content?: unknown } | undefined
  const content = body && typeof body === 'object' && 'content' in body ? body.content : body
  if (Buffer.isBuffer(content)) {
    try {
      return JSON.parse(content.toString('utf8'))
    } catch {
      return content
    }
  }
  return content
}

export class AmqpPeer {
  readonly port: number
  private readonly server: net.Server
  private readonly hubs = new Map<string, Hub>()
  private readonly consumers = new Set<ConsumerLink>()
  private readonly connections = new Set<Connection>()
  private readonly sockets = new Set<net.Socket>()
  private readonly connectionIds = new WeakMap<Connection, string>()
  private connectionCount = 0
  /** every put-token request, in order of arrival */
  readonly putTokens: PutToken[] = []

  private constructor(server: net.Server, port: number, hubs: Record<string, number>) {
    this.server = server
    this.port = port
    for (const [name, count] of Object.entries(hubs)) this.addHub(name, count)
  }

  static async start(options: AmqpPeerOptions = {}): Promise<AmqpPeer> {
    const container = rhea.create_container({ id: 'amqp-peer' })
    // autoaccept off: publishes are settled by the peer so faults can be injected
    const transport = options.tls ? { transport: 'tls', key: options.tls.key, cert: options.tls.cert } : {}
    const server = container.listen({ port: options.port ?? 0, host: '127.0.0.1', autoaccept: false, ...transport } as never) as net.Server
    await new Promise<void>((resolve, reject) => {
      if (server.listening) return resolve()
      server.once('listening', () => resolve())
      server.once('error', reject)
    })
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const peer = new AmqpPeer(server, port, options.hubs ?? { [options.hub ?? 'graph']: options.partitions ?? 2 })
    peer.bind(container)
    return peer
  }

  /** The SDK connection string for one hub (plain TCP through UseDevelopmentEmulator); default: the first hub. */
  connectionString(hub: string = this.hubs.keys().next().value ?? 'graph'): string {
    return `Endpoint=sb://localhost:${this.port};SharedAccessKeyName=peer;SharedAccessKey=peer-key;UseDevelopmentEmulator=true;EntityPath=${hub}`
  }

  addHub(name: string, partitionCount: number): void {
    const partitions = Array.from({ length: partitionCount }, (_, i) => ({ id: String(i), events: [], nextOffset: 0 }))
    this.hubs.set(name, { name, createdAt: new Date(), partitions, roundRobin: 0, rejectNext: 0 })
  }

  /** Appends events without an AMQP client (fixtures, benchmarks); bodies are sent as JSON data sections. */
  publish(hub: string, partitionId: string, bodies: unknown[], partitionKey?: string): PeerEvent[] {
    const target = this.hub(hub)
    const partition = target.partitions[Number(partitionId)]
    if (!partition) throw new Error(`hub ${hub} has no partition ${partitionId}`)
    const stored = bodies.map((body) =>
      this.append(partition, { body: rhea.message.data_section(bodyBytes(body)) } as Message, partitionKey),
    )
    this.deliver(partition)
    return stored
  }

  /** Everything stored on a hub (one partition or all, partition by partition). */
  events(hub: string, partitionId?: string): PeerEvent[] {
    const target = this.hub(hub)
    const partitions = partitionId === undefined ? target.partitions : [target.partitions[Number(partitionId)]]
    return partitions.flatMap((partition) => partition?.events ?? [])
  }

  /** Event bodies of a hub decoded as JSON. */
  bodies(hub: string, partitionId?: string): unknown[] {
    return this.events(hub, partitionId).map(decodePeerBody)
  }

  /** Consumer links currently streaming. */
  receivers(hub?: string): ReceiverInfo[] {
    return [...this.consumers].filter((link) => hub === undefined || link.hub.name === hub).map((link) => ({ ...link.info }))
  }

  /** The next `count` publishes to `hub` are rejected with com.microsoft:server-busy (retryable for the SDK). */
  rejectPublishes(hub: string, count: number): void {
    this.hub(hub).rejectNext = count
  }

  /** Drops every client socket (a network fault). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy()
  }

  /** Same as stop(). */
  close(): Promise<void> {
    return this.stop()
  }

  /** Close clients first (see the reference, §9): a listener's close does not end live connections. */
  async stop(): Promise<void> {
    for (const connection of this.connections) {
      try {
        connection.close()
      } catch {
        // already gone
      }
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    const force = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy()
    }, 500)
    await closed
    clearTimeout(force)
  }

  private hub(name: string): Hub {
    const hub = this.hubs.get(name)
    if (!hub) throw new Error(`unknown hub ${name}`)
    return hub
  }

  private bind(container: ReturnType<typeof rhea.create_container>): void {
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
    container.on('connection_open', (context: EventContext) => {
      this.connections.add(context.connection)
      this.connectionIds.set(context.connection, `c${++this.connectionCount}`)
    })
    const forget = (context: EventContext) => {
      this.connections.delete(context.connection)
      for (const link of this.consumers) if (link.sender.connection === context.connection) this.consumers.delete(link)
    }
    container.on('connection_close', forget)
    container.on('disconnected', forget)
    container.on('error', () => undefined)
    container.on('connection_error', () => undefined)
    container.on('sender_open', (context: EventContext) => this.onSenderOpen(context))
    container.on('receiver_open', (context: EventContext) => this.onReceiverOpen(context))
    container.on('sender_close', (context: EventContext) => this.dropConsumer(context.sender))
    container.on('sendable', (context: EventContext) => {
      for (const link of this.consumers) if (link.sender === context.sender) this.pump(link)
    })
    container.on('message', (context: EventContext) => this.onMessage(context))
  }

  // The client's receivers: $cbs / $management reply links, or a partition consumer.
  private onSenderOpen(context: EventContext): void {
    const sender = context.sender as Sender
    const source = sender.source as { address?: string } | undefined
    const target = sender.target as { address?: string } | undefined
    // Echo the terminus addresses like the service does.
    if (source?.address) sender.set_source({ address: source.address })
    if (target?.address) sender.set_target({ address: target.address })
    const address = source?.address ?? ''
    if (address === '$cbs' || address === '$management') return
    const match = PARTITION_SOURCE.exec(address)
    const hub = match ? this.hubs.get(match[1]) : undefined
    const partition = match && hub ? hub.partitions[Number(match[3])] : undefined
    if (!match || !hub || !partition || String(Number(match[3])) !== match[3]) {
      sender.close({ condition: 'amqp:not-found', description: `The messaging entity '${address}' could not be found.` })
      return
    }
    const position = parsePosition(selectorOf(sender.source))
    const cursor = position ? startIndex(partition, position) : undefined
    if (cursor === undefined) {
      sender.close({ condition: 'amqp:internal-error', description: `unsupported selector filter on ${address}` })
      return
    }
    const consumerGroup = decodeURIComponent(match[2])
    const info: ReceiverInfo = {
      hub: hub.name,
      consumerGroup,
      partitionId: partition.id,
      epoch: epochOf(sender.properties as Record<string, unknown> | undefined),
      linkName: sender.name,
      connectionId: this.connectionIds.get(context.connection) ?? '',
    }
    const groupKey = `${hub.name}/${consumerGroup.toLowerCase()}/${partition.id}`
    if (!this.admit(groupKey, info)) {
      sender.close({
        condition: 'amqp:link:stolen',
        description: `a receiver with a higher epoch already reads ${groupKey}; this one (epoch ${info.epoch ?? 'none'}) is refused`,
      })
      return
    }
    const link: ConsumerLink = { sender, hub, partition, groupKey, info, cursor }
    this.consumers.add(link)
    this.pump(link)
  }

  /** Epoch rules of the service: the newest epoch receiver wins, non-epoch ones only run beside each other. */
  private admit(groupKey: string, info: ReceiverInfo): boolean {
    const rivals = [...this.consumers].filter((link) => link.groupKey === groupKey)
    const epochRivals = rivals.filter((link) => link.info.epoch !== undefined)
    if (info.epoch === undefined) return epochRivals.length === 0
    if (epochRivals.some((link) => (link.info.epoch as number) > (info.epoch as number))) return false
    for (const link of rivals) {
      this.consumers.delete(link)
      link.sender.close({
        condition: 'amqp:link:stolen',
        description: `New receiver '${info.linkName}' with higher epoch of '${info.epoch}' is created hence current receiver '${link.info.linkName}' with epoch '${link.info.epoch ?? 'none'}' is getting disconnected.`,
      })
    }
    return true
  }

  private dropConsumer(sender: Sender | undefined): void {
    for (const link of this.consumers) if (link.sender === sender) this.consumers.delete(link)
  }

  // The client's senders: $cbs / $management requests, or a producer to a hub or one partition.
  private onReceiverOpen(context: EventContext): void {
    const receiver = context.receiver as Receiver
    const target = receiver.target as { address?: string } | undefined
    const sourceAddress = (receiver.source as { address?: string } | undefined)?.address
    if (target?.address) receiver.set_target({ address: target.address })
    if (sourceAddress) receiver.set_source({ address: sourceAddress })
    const address = target?.address ?? ''
    if (address === '$cbs' || address === '$management') return
    ;((receiver as unknown as { local: { attach: { max_message_size?: number } } }).local.attach).max_message_size = MAX_MESSAGE_SIZE
    const hubName = PARTITION_TARGET.exec(address)?.[1] ?? address
    if (!this.hubs.has(hubName)) {
      receiver.close({ condition: 'amqp:not-found', description: `The messaging entity '${address}' could not be found.` })
    }
  }

  private onMessage(context: EventContext): void {
    const receiver = context.receiver as Receiver
    const address = (receiver.target as { address?: string } | undefined)?.address ?? ''
    const delivery = context.delivery
    if (address === '$cbs') {
      const properties = context.message?.application_properties ?? {}
      this.putTokens.push({ type: String(properties.type), name: String(properties.name), token: String(context.message?.body) })
      delivery?.accept()
      return this.reply(context, 202, 'Accepted', undefined)
    }
    if (address === '$management') {
      delivery?.accept()
      return this.onManagement(context)
    }
    this.onPublish(context, address)
  }

  private onPublish(context: EventContext, address: string): void {
    const delivery = context.delivery
    const fixed = PARTITION_TARGET.exec(address)
    const hub = this.hubs.get(fixed ? fixed[1] : address)
    if (!hub) {
      refuse(delivery, 'amqp:not-found', `The messaging entity '${address}' could not be found.`)
      return
    }
    if (hub.rejectNext > 0) {
      hub.rejectNext -= 1
      refuse(delivery, 'com.microsoft:server-busy', 'The peer was told to refuse this publish.')
      return
    }
    let messages: Message[]
    let envelopeKey: string | undefined
    const raw = (context as { message?: unknown }).message
    const format = (context as { format?: number }).format
    if (format === BATCH_FORMAT && Buffer.isBuffer(raw)) {
      const envelope = rhea.message.decode(raw)
      envelopeKey = envelope.message_annotations?.['x-opt-partition-key'] as string | undefined
      const body = envelope.body as { content?: unknown } | undefined
      const content = body && typeof body === 'object' && 'content' in body ? body.content : undefined
      const sections = Array.isArray(content) ? content : content === undefined ? [] : [content]
      messages = sections.map((section) => rhea.message.decode(section as Buffer) as unknown as Message)
    } else {
      messages = [raw as Message]
    }
    const touched = new Set<Partition>()
    // Like the service, a batch without key or partition lands on one partition, chosen round robin.
    const roundRobin = hub.partitions[hub.roundRobin++ % hub.partitions.length]
    for (const message of messages) {
      const key = (message.message_annotations?.['x-opt-partition-key'] as string | undefined) ?? envelopeKey
      let partition: Partition
      if (fixed) partition = hub.partitions[Number(fixed[2])]
      else if (key !== undefined) partition = hub.partitions[partitionForKey(key, hub.partitions.length)]
      else partition = roundRobin
      if (!partition) {
        refuse(delivery, 'com.microsoft:argument-out-of-range', `no partition in ${address}`)
        return
      }
      this.append(partition, message, key)
      touched.add(partition)
    }
    delivery?.accept()
    for (const partition of touched) this.deliver(partition)
  }

  private append(partition: Partition, message: Message, partitionKey: string | undefined): PeerEvent {
    const stored: PeerEvent = {
      sequenceNumber: partition.events.length,
      offset: String(partition.nextOffset),
      enqueuedTime: Date.now(),
      partitionKey,
      message,
    }
    // Offsets grow by the body size, like the service's byte offsets, so they never equal sequence numbers.
    const content = (message.body as { content?: unknown } | undefined)?.content
    partition.nextOffset += Buffer.isBuffer(content) ? content.length + 64 : 128
    partition.events.push(stored)
    return stored
  }

  private deliver(partition: Partition): void {
    for (const link of this.consumers) if (link.partition === partition) this.pump(link)
  }

  private pump(link: ConsumerLink): void {
    const { sender, partition } = link
    while (link.cursor < partition.events.length && sender.sendable()) {
      const event = partition.events[link.cursor]
      link.cursor += 1
      const annotations: Record<string, unknown> = { ...(event.message.message_annotations ?? {}) }
      annotations['x-opt-sequence-number'] = types.wrap_long(event.sequenceNumber)
      annotations['x-opt-offset'] = event.offset
      annotations['x-opt-enqueued-time'] = types.wrap_timestamp(event.enqueuedTime)
      if (event.partitionKey !== undefined) annotations['x-opt-partition-key'] = event.partitionKey
      sender.send({ ...event.message, message_annotations: annotations } as Message)
    }
  }

  private onManagement(context: EventContext): void {
    const request = context.message as Message
    const props = (request.application_properties ?? {}) as Record<string, unknown>
    const hub = this.hubs.get(String(props.name))
    if (props.operation !== 'READ' || !hub) {
      return this.reply(context, 404, `The messaging entity '${String(props.name)}' could not be found.`, undefined, 'amqp:not-found')
    }
    if (props.type === 'com.microsoft:eventhub') {
      return this.reply(context, 200, 'OK', {
        name: hub.name,
        type: 'com.microsoft:eventhub',
        created_at: types.wrap_timestamp(hub.createdAt.getTime()),
        partition_count: types.wrap_int(hub.partitions.length),
        partition_ids: types.wrap_array(
          hub.partitions.map((partition) => partition.id),
          0xa1,
          undefined,
        ),
      })
    }
    if (props.type === 'com.microsoft:partition') {
      const partition = hub.partitions.find((p) => p.id === String(props.partition))
      if (!partition) {
        return this.reply(context, 400, `partition ${String(props.partition)} is out of range`, undefined, 'com.microsoft:argument-out-of-range')
      }
      const last = partition.events[partition.events.length - 1]
      return this.reply(context, 200, 'OK', {
        name: hub.name,
        type: 'com.microsoft:partition',
        partition: partition.id,
        begin_sequence_number: types.wrap_long(last ? 0 : -1),
        last_enqueued_sequence_number: types.wrap_long(last ? last.sequenceNumber : -1),
        last_enqueued_offset: last ? last.offset : '-1',
        last_enqueued_time_utc: types.wrap_timestamp(last ? last.enqueuedTime : 0),
        is_partition_empty: last === undefined,
      })
    }
    return this.reply(context, 400, `unknown type ${String(props.type)}`, undefined, 'com.microsoft:argument-out-of-range')
  }

  /** Replies on the client receiver whose link name is the request's reply_to. */
  private reply(context: EventContext, status: number, description: string, body: unknown, condition?: string): void {
    const request = context.message as Message
    const replyTo = request.reply_to
    const sender = context.connection.find_sender((s: Sender) => s.name === replyTo) as Sender | undefined
    if (!sender) return
    const properties: Record<string, unknown> = { 'status-code': types.wrap_int(status), 'status-description': description }
    if (condition) properties['error-condition'] = condition
    sender.send({ correlation_id: request.message_id, application_properties: properties, body } as Message)
  }
}
