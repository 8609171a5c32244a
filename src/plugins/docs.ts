// OpenAPI 3.0.3 generated from the zod route schemas; Swagger UI at /docs, the document at /openapi.json.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'

export const API_DESCRIPTION = [
  'The sidecar a MuleSoft two-way Outlook <-> Salesforce calendar sync calls before every write.',
  '',
  '- `/dedupe`: is this change new? On `process` you hold a claim: write, then `/dedupe/commit`; on a failed write `/dedupe/release`.',
  '- `/correlate`: what is the counterpart, and is this change our own echo?',
  '- `/resolve-conflict`: both sides changed; what does each side get?',
  '',
  'Every business outcome is HTTP 200 with a decision in the body (Mule has no error type for 409/422).',
  'Errors are problem details (RFC 9457) with an `errors` list naming each wrong field, as application/json unless',
  'Accept asks for application/problem+json: 400 invalid input, 401 token, 404 unknown record, 408 request timeout,',
  '413 too large, 415 not JSON, 429 overloaded, 503 store unavailable (429 and 503 with Retry-After). Retry what',
  'says retryable: true (408, 429, 500, 503); never the other 4xx.',
  'Send `X-Correlation-ID` (up to 128 printable ASCII characters); it is echoed and logged.',
  'Every key is namespaced by `tenant` (default "default").',
].join('\n')

type OpenApiDoc = { components?: { schemas?: Record<string, unknown> } } & Record<string, unknown>

/**
 * The zod provider emits an input and an output copy of every named schema ("XInput" and "X"). Keep the ones the
 * document uses, and name an input copy plainly when it is the only one or equal to its output twin.
 */
function tidyComponents(doc: OpenApiDoc): OpenApiDoc {
  const schemas = doc.components?.schemas
  if (!schemas) return doc
  const refsIn = (value: unknown) => JSON.stringify(value).match(/#\/components\/schemas\/[A-Za-z0-9_]+/g) ?? []
  // reachable from the paths, following refs between components
  const used = new Set<string>()
  const queue = refsIn({ ...doc, components: undefined }).map((ref) => ref.split('/').pop() as string)
  while (queue.length > 0) {
    const name = queue.pop() as string
    if (used.has(name)) continue
    used.add(name)
    for (const ref of refsIn(schemas[name])) queue.push(ref.split('/').pop() as string)
  }
  const renames = new Map<string, string>()
  for (const name of used) {
    if (!name.endsWith('Input')) continue
    const plain = name.slice(0, -'Input'.length)
    if (!used.has(plain) || JSON.stringify(schemas[plain]) === JSON.stringify(schemas[name])) renames.set(name, plain)
  }
  let text = JSON.stringify({ ...doc, components: { ...doc.components, schemas: Object.fromEntries([...used].sort().map((n) => [n, schemas[n]])) } })
  for (const [from, to] of renames) text = text.replaceAll(`"#/components/schemas/${from}"`, `"#/components/schemas/${to}"`)
  const tidy = JSON.parse(text) as OpenApiDoc
  const out = tidy.components?.schemas as Record<string, unknown>
  for (const [from, to] of renames) {
    if (!(to in out)) out[to] = out[from]
    delete out[from]
  }
  return tidy
}

export default fp(
  async function docs(app: FastifyInstance, opts: { version: string }) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'calendar-sync-sidecar', description: API_DESCRIPTION, version: opts.version },
        // Relative: Swagger UI's "Try it out" then calls the sidecar that served the page, on whatever host and port.
        servers: [{ url: '/', description: 'the sidecar that serves this document' }],
        tags: [
          { name: 'dedupe', description: 'Is this change new? Claims, commits and releases.' },
          { name: 'correlate', description: 'Counterparts, create reservations and echo suppression.' },
          { name: 'resolve-conflict', description: 'Field-level merge when both sides changed.' },
          { name: 'operations', description: 'Health, readiness and metrics.' },
        ],
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'One of API_TOKENS, when tokens are configured.' },
          },
        },
        security: [{ bearerAuth: [] }],
      },
      transform: createJsonSchemaTransform({ skipList: ['/docs', '/docs/*', '/openapi.json', '/metrics'] }),
      transformObject: (input) => tidyComponents(jsonSchemaTransformObject(input) as OpenApiDoc) as ReturnType<typeof jsonSchemaTransformObject>,
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  },
  { name: 'docs' },
)
