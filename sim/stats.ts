// Counters and latency summaries the report prints: tallies by label, percentiles over samples.

export class Tally {
  private readonly counts = new Map<string, number>()

  add(label: string, by = 1): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + by)
  }

  get(label: string): number {
    return this.counts.get(label) ?? 0
  }

  get total(): number {
    let sum = 0
    for (const value of this.counts.values()) sum += value
    return sum
  }

  /** Labels sorted by count, largest first. */
  toObject(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])))
  }
}

export interface LatencySummary {
  count: number
  p50: number
  p95: number
  p99: number
  max: number
}

export class Samples {
  private readonly values: number[] = []

  add(value: number): void {
    this.values.push(value)
  }

  get count(): number {
    return this.values.length
  }

  summary(): LatencySummary {
    const sorted = [...this.values].sort((a, b) => a - b)
    const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)])
    const round = (v: number) => Math.round(v * 10) / 10
    return { count: sorted.length, p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) }
  }
}

export class SamplesByLabel {
  private readonly byLabel = new Map<string, Samples>()

  add(label: string, value: number): void {
    let samples = this.byLabel.get(label)
    if (!samples) this.byLabel.set(label, (samples = new Samples()))
    samples.add(value)
  }

  toObject(): Record<string, LatencySummary> {
    return Object.fromEntries([...this.byLabel.entries()].map(([label, samples]) => [label, samples.summary()]))
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)))
