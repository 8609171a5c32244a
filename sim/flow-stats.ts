// What the workers saw: every sidecar decision, how each delivery ended, and a short history per item.
import { Tally } from './stats.js'

export class FlowStats {
  readonly dedupe = new Tally()
  readonly correlate = new Tally()
  readonly resolve = new Tally()
  readonly conflictRules = new Tally()
  readonly confirm = new Tally()
  readonly commit = new Tally()
  readonly release = new Tally()
  readonly outcomes = new Tally()
  readonly crashes = new Tally()
  /** workers held up until their lease lapsed, by what the lease check did then */
  readonly stalls = new Tally()
  readonly calendarRetries = new Tally()
  readonly dropped = new Tally()
  readonly errors: string[] = []
  busy = 0
  changesProcessed = 0
  private readonly history = new Map<string, Array<{ at: number; text: string }>>()

  /** One line of an item's story, for explaining a lost change later. */
  note(system: string, itemId: string, text: string): void {
    const key = `${system}:${itemId}`
    const lines = this.history.get(key) ?? []
    lines.push({ at: Date.now(), text })
    if (lines.length > 60) lines.shift()
    this.history.set(key, lines)
  }

  historyOf(system: string, itemId: string): Array<{ at: number; text: string }> {
    return this.history.get(`${system}:${itemId}`) ?? []
  }

  error(text: string): void {
    if (this.errors.length < 20) this.errors.push(text)
  }
}
