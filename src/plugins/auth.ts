// Bearer-token auth: tokens from API_TOKENS compared in constant time; health, metrics and docs stay open.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { HttpProblem } from '../errors.js'

const OPEN_PATHS = ['/healthz', '/readyz', '/metrics', '/openapi.json']
const isOpen = (url: string) => {
  const path = url.split('?', 1)[0]
  return OPEN_PATHS.includes(path) || path === '/docs' || path.startsWith('/docs/')
}

// Hashing first makes every comparison the same length, so timingSafeEqual never leaks a token's length.
const digest = (text: string) => createHash('sha256').update(text).digest()

export function tokenMatches(presented: string, digests: Buffer[]): boolean {
  const candidate = digest(presented)
  let match = false
  for (const known of digests) match = timingSafeEqual(candidate, known) || match
  return match
}

export default fp(
  async function auth(app: FastifyInstance, opts: { tokens: string[] }) {
    if (opts.tokens.length === 0) return
    const digests = opts.tokens.map(digest)
    app.addHook('onRequest', async (request: FastifyRequest) => {
      if (isOpen(request.url)) return
      const header = request.headers.authorization
      const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
      if (!match) throw new HttpProblem('unauthorized', 'send Authorization: Bearer <token> with one of the configured API tokens')
      if (!tokenMatches(match[1], digests)) throw new HttpProblem('unauthorized', 'the bearer token is not one of the configured API tokens')
    })
  },
  { name: 'auth' },
)
