// Answers are written together once the event loop's pass over ready sockets ends, not one by one as each is ready.
//
// A sidecar runs beside its Mule worker and is called over loopback. There, each write to a client that waits in the
// kernel wakes that client from inside the write, and on a VM the wake-up (an interrupt to the other core) costs more
// than the sidecar's own work for a request. Held until the pass ends (setImmediate), the answers to all the requests
// read in that pass go out in one burst: the first write wakes the client, the rest find it awake. An answer waits at
// most for the other requests read in the same pass; under light load that is none.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

type Done = (error: Error | null, payload: unknown) => void

export default fp(
  async function coalesceWrites(app: FastifyInstance) {
    let held: Array<{ done: Done; payload: unknown }> = []
    const flush = () => {
      const answers = held
      held = []
      for (const { done, payload } of answers) {
        // One answer's failure must not keep the others unwritten (nor end the process from a timer).
        try {
          done(null, payload)
        } catch (error) {
          app.log.error({ err: error }, 'writing an answer failed')
        }
      }
    }
    app.addHook('onSend', (_request, _reply, payload, done) => {
      if (held.push({ done, payload }) === 1) setImmediate(flush)
    })
  },
  { name: 'coalesce-writes' },
)
