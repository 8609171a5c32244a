// Calls made in one pass of the event loop, sent together once that pass ends: one write and one reply for many.

/** Most calls sent together in one script call. */
export const GATHERED_CALLS_LIMIT = 64

interface Pending<I, R> {
  input: I
  resolve: (result: R | PromiseLike<R>) => void
  reject: (error: unknown) => void
}

/**
 * `add` holds a call until the current pass of the event loop ends (setImmediate), then `send` gets the held inputs in
 * arrival order, in groups of at most GATHERED_CALLS_LIMIT, and answers one result per input, in the same order. A
 * failed group fails each of its calls with the same error.
 */
export class Gatherer<I, R> {
  private pending: Array<Pending<I, R>> = []

  /** `send` answers one result per input, in order; a promise among them settles its caller on its own. */
  constructor(private readonly send: (inputs: I[]) => Promise<Array<R | PromiseLike<R>>>) {}

  add(input: I): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ input, resolve, reject }) === 1) setImmediate(this.flush)
    })
  }

  private readonly flush = () => {
    const pending = this.pending
    this.pending = []
    for (let start = 0; start < pending.length; start += GATHERED_CALLS_LIMIT) {
      const group = pending.slice(start, start + GATHERED_CALLS_LIMIT)
      // from a promise, so that even a synchronous throw reaches the callers instead of the event loop
      Promise.resolve()
        .then(() => this.send(group.map((call) => call.input)))
        .then(
          (results) => {
            if (results.length === group.length) return group.forEach((call, i) => call.resolve(results[i]))
            const error = new Error(`gathered ${group.length} calls, got ${results.length} answers`)
            group.forEach((call) => call.reject(error))
          },
          (error: unknown) => group.forEach((call) => call.reject(error)),
        )
    }
  }
}
