// Answers are written together once the event loop's pass over ready sockets ends, not one by one as each is ready.
//
// On the Mule host the sidecar is called over loopback. There, each write to a client that waits in the kernel wakes
// that client from inside the write, and on a VM the wake-up (an interrupt to the other core) costs about as much as
// the sidecar's own work for a request. Held until the pass ends (setImmediate), the answers to all the requests read
// in that pass go out in one burst: the first write wakes the client, the rest find it awake. Over a network the
// write wakes nobody, and the hold saves less.
//
// The cost is latency under load: an answer waits while the other requests read in the same pass are parsed, validated
// and decided (or sent to Redis); the latency histogram counts that wait. Under light load a pass holds one request.
//
// A held answer is not sent yet (`reply.sent` is false until it is written), so code that sends an answer and then
// lets the request go on would run the route as well: hooks refuse by passing an error (or throwing), never by
// sending and continuing. Likewise an async handler that calls `reply.send()` returns the reply (or the payload),
// never undefined: Fastify would send again for a reply it sees unsent.
import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'

type Done = (error: Error | null, payload?: unknown) => void

interface Held {
  reply: FastifyReply
  payload: unknown
  done: Done
}

/** What Fastify's own hook runner does when the write throws: the error handler answers (500) instead. */
function release({ reply, payload, done }: Held): void {
  try {
    done(null, payload)
  } catch (error) {
    try {
      done(error as Error, payload)
    } catch (again) {
      // Not even the error answer could be written: the connection goes, so the client is not left waiting and the
      // server's close does not wait for it.
      reply.log.error({ err: again }, 'writing the answer failed')
      reply.raw.destroy()
    }
  }
}

export default fp(
  async function coalesceWrites(app: FastifyInstance) {
    let held: Held[] = []
    const flush = () => {
      const answers = held
      held = []
      for (const answer of answers) release(answer)
    }
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (held.push({ reply, payload, done }) === 1) setImmediate(flush)
    })
  },
  { name: 'coalesce-writes' },
)
