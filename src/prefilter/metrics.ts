// Prometheus metrics of the pre-filter (prefix prefilter_) on the registry the caller owns.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { DropReason } from './notifications.js'
import type { PartitionStatus } from './pipeline.js'

const DROP_REASONS: DropReason[] = ['validation', 'client_state', 'malformed', 'unparsable']

export interface PrefilterMetrics {
  eventsReceived: Counter
  notificationsReceived: Counter
  dropped: Counter<'reason'>
  collapsed: Counter
  forwarded: Counter<'kind'>
  forwardFailures: Counter<'reason'>
  forwardRetries: Counter
  checkpointsWritten: Counter
  checkpointFailures: Counter
  consumerErrors: Counter
}

export interface MetricsSource {
  ready(): boolean
  partitions(): PartitionStatus[]
  unsettledNotifications(): number
  waitingItems(): number
  pendingForwards(): number
}

// A restart inside one process (tests, a supervisor) registers again: the old instance's metrics give way.
function fresh<T>(registry: Registry, name: string, make: () => T): T {
  if (registry.getSingleMetric(name)) registry.removeSingleMetric(name)
  return make()
}

export function createPrefilterMetrics(registry: Registry, source: MetricsSource): PrefilterMetrics {
  const registers = [registry]
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    fresh(registry, name, () => new Counter<L>({ name, help, labelNames, registers }))
  const gauge = (name: string, help: string, collect: (g: Gauge<string>) => void, labelNames: string[] = []) =>
    fresh(
      registry,
      name,
      () =>
        new Gauge({
          name,
          help,
          labelNames,
          registers,
          collect() {
            collect(this)
          },
        }),
    )

  gauge('prefilter_ready', '1 while the pre-filter receives and forwards, 0 otherwise', (g) => g.set(source.ready() ? 1 : 0))
  gauge(
    'prefilter_checkpoint_lag_events',
    'Events received on a partition but not yet covered by a written checkpoint',
    (g) => {
      g.reset()
      for (const partition of source.partitions()) {
        if (partition.state === 'open') g.set({ partition: partition.partitionId }, partition.checkpointLag)
      }
    },
    ['partition'],
  )
  gauge('prefilter_unsettled_notifications', 'Notifications received and not yet forwarded', (g) => g.set(source.unsettledNotifications()))
  gauge('prefilter_collapse_waiting_items', 'Items waiting for their burst to end', (g) => g.set(source.waitingItems()))
  gauge('prefilter_forward_pending_messages', 'Messages queued or in flight to the forward target', (g) => g.set(source.pendingForwards()))

  const metrics: PrefilterMetrics = {
    eventsReceived: counter('prefilter_events_received_total', 'Event Hubs events received'),
    notificationsReceived: counter('prefilter_notifications_received_total', 'Graph notifications received (elements of value)'),
    dropped: counter('prefilter_notifications_dropped_total', 'Notifications dropped by rule, by reason', ['reason']),
    collapsed: counter('prefilter_notifications_collapsed_total', 'Notifications merged into another notification of the same item'),
    forwarded: counter('prefilter_messages_forwarded_total', 'Messages forwarded, by kind (change, lifecycle)', ['kind']),
    forwardFailures: counter('prefilter_forward_failures_total', 'Failed forward attempts (each is retried), by reason', ['reason']),
    forwardRetries: counter('prefilter_forward_retries_total', 'Forwards that needed more than one attempt'),
    checkpointsWritten: counter('prefilter_checkpoints_written_total', 'Checkpoints written'),
    checkpointFailures: counter('prefilter_checkpoint_failures_total', 'Checkpoint writes that failed (retried)'),
    consumerErrors: counter('prefilter_consumer_errors_total', 'Errors reported by the Event Hubs consumer'),
  }
  // Known label values start at 0 so dashboards and rate() see them before the first occurrence.
  for (const reason of DROP_REASONS) metrics.dropped.inc({ reason }, 0)
  for (const kind of ['change', 'lifecycle']) metrics.forwarded.inc({ kind }, 0)
  for (const reason of ['http_5xx', 'http_429', 'http_4xx', 'connection', 'timeout']) metrics.forwardFailures.inc({ reason }, 0)
  return metrics
}
