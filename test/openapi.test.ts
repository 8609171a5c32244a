// The committed OpenAPI document matches the code, and a real OpenAPI 3.0 validator accepts it.
import SwaggerParser from '@apidevtools/swagger-parser'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { renderOpenApiYaml } from '../scripts/openapi-document.js'

const committedPath = new URL('../openapi/openapi.yaml', import.meta.url)

t.test('openapi/openapi.yaml is up to date with the route schemas (run `npm run openapi` when this fails)', async (t) => {
  const generated = await renderOpenApiYaml()
  const committed = readFileSync(committedPath, 'utf8')
  t.equal(committed, generated)
})

t.test('the document is valid OpenAPI 3.0.3 with every path of the contract', async (t) => {
  const doc = parse(readFileSync(committedPath, 'utf8'))
  t.equal(doc.openapi, '3.0.3')
  const api = (await SwaggerParser.validate(structuredClone(doc))) as { paths: Record<string, Record<string, unknown>> }
  const expected: Array<[string, string]> = [
    ['/dedupe', 'post'],
    ['/dedupe/commit', 'post'],
    ['/dedupe/release', 'post'],
    ['/dedupe/batch', 'post'],
    ['/dedupe/{system}/{itemId}', 'get'],
    ['/dedupe/{system}/{itemId}', 'delete'],
    ['/correlate', 'post'],
    ['/correlate/confirm', 'post'],
    ['/correlate/{system}/{itemId}', 'get'],
    ['/correlate/{system}/{itemId}', 'delete'],
    ['/resolve-conflict', 'post'],
    ['/healthz', 'get'],
    ['/readyz', 'get'],
  ]
  for (const [path, method] of expected) t.ok(api.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`)
  for (const [path, item] of Object.entries(api.paths)) {
    for (const [method, op] of Object.entries(item) as Array<[string, { summary?: string; description?: string; tags?: string[] }]>) {
      t.ok(op.summary && op.description && op.tags?.length, `${method.toUpperCase()} ${path} has tags, summary and description`)
    }
  }
})
