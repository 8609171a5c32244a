// Refuses bodies no route should see: strings with lone UTF-16 surrogates and nesting deeper than any calendar item.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { HttpProblem } from '../errors.js'

/** Deeper than any Graph event, Salesforce record or canonical item nests; stops stack-deep inputs early. */
export const MAX_BODY_DEPTH = 64

/**
 * The dotted path of the first value that breaks a rule, with the rule; undefined when the body is fine. Iterative,
 * so a hostile depth cannot exhaust the stack here.
 */
export function findBadValue(body: unknown): { path: string; message: string } | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '', depth: 0 }]
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number }
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return { path, message: 'holds a lone UTF-16 surrogate; send well-formed Unicode text' }
      continue
    }
    if (typeof value !== 'object' || value === null) continue
    if (depth >= MAX_BODY_DEPTH) return { path, message: `nests deeper than ${MAX_BODY_DEPTH} levels` }
    const join = (key: string | number) => (path === '' ? String(key) : `${path}.${key}`)
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: join(i), depth: depth + 1 })
    } else {
      for (const [key, child] of Object.entries(value)) {
        if (!key.isWellFormed()) return { path: join(key.toWellFormed()), message: 'is a key with a lone UTF-16 surrogate' }
        stack.push({ value: child, path: join(key), depth: depth + 1 })
      }
    }
  }
  return undefined
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'per-event': the route checks each element of body.events itself, so one bad event is rejected alone */
    bodyGuard?: 'per-event'
  }
}

export default fp(
  async function bodyGuard(app: FastifyInstance) {
    const check = async (request: FastifyRequest) => {
      const perEvent = request.routeOptions.config.bodyGuard === 'per-event'
      const body = perEvent && typeof request.body === 'object' && request.body !== null ? { ...request.body, events: undefined } : request.body
      const bad = findBadValue(body) ?? findBadValue(request.params) ?? findBadValue(request.query)
      if (bad) throw new HttpProblem('invalid_input', `${bad.path || 'body'}: ${bad.message}`, { errors: [bad] })
    }
    app.addHook('preValidation', check)
  },
  { name: 'body-guard' },
)
