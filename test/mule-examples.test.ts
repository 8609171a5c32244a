// Checks mule-examples against openapi/openapi.yaml and against the Mule facts the flows rely on, so the example
// app and the sidecar's API cannot drift apart unnoticed.
//
// What an offline check can do (Mule XSDs ship only inside the connector JARs): XML well-formedness, declared
// prefixes with matching schemaLocation pairs, config-ref/flow-ref resolution, error types from an allow-list,
// every http:request against the OpenAPI paths, the DataWeave request bodies against the request schemas, and
// every resource file and ${property} resolving. Studio or a Maven build against MuleSoft's repositories is still
// the authority on the connectors' element and attribute names.
import t from 'tap'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { parse as parseYaml } from 'yaml'

const root = fileURLToPath(new URL('..', import.meta.url))
const appDir = join(root, 'mule-examples')
const muleDir = join(appDir, 'src/main/mule')
const resourcesDir = join(appDir, 'src/main/resources')
const openapiFile = join(root, 'openapi/openapi.yaml')

// ---------------------------------------------------------------- facts from shared/reference/mule-http.md

/** Error types the flows may name: HTTP (section 1), core (sections 1, 2, 5), connectors (sections 5, 11, 12). */
const KNOWN_ERROR_TYPES = new Set([
  ...[
    'BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'METHOD_NOT_ALLOWED', 'NOT_ACCEPTABLE',
    'UNSUPPORTED_MEDIA_TYPE', 'TOO_MANY_REQUESTS', 'INTERNAL_SERVER_ERROR', 'BAD_GATEWAY', 'SERVICE_UNAVAILABLE',
    'GATEWAY_TIMEOUT', 'MULTIPLE_CHOICES', 'MOVED_PERMANENTLY', 'MOVED_TEMPORARILY', 'SEE_OTHER', 'NOT_MODIFIED',
    'CONNECTIVITY', 'TIMEOUT', 'PARSING', 'SECURITY', 'CLIENT_SECURITY',
  ].map((id) => `HTTP:${id}`),
  'ANY',
  ...['CONNECTIVITY', 'RETRY_EXHAUSTED', 'SECURITY', 'CLIENT_SECURITY', 'DUPLICATE_MESSAGE'].map((id) => `MULE:${id}`),
  ...['KEY_ALREADY_EXISTS', 'STORE_NOT_AVAILABLE', 'INVALID_KEY', 'KEY_NOT_FOUND', 'NULL_VALUE'].map((id) => `OS:${id}`),
  ...['AEH_ERROR', 'AUTHENTICATION', 'CONNECTIVITY', 'INVALID_INPUT', 'RETRY_EXHAUSTED'].map((id) => `AZURE-EVENTHUBS:${id}`),
  ...[
    'APPLICATION_THROTTLED', 'BAD_REQUEST', 'CONNECTIVITY', 'FORBIDDEN', 'INVALID_CONNECTION', 'INVALID_CREDENTIALS',
    'NOT_FOUND', 'RETRY_EXHAUSTED', 'SERVER_ERROR', 'TIMEOUT', 'VALIDATION',
  ].map((id) => `OUTLOOK365:${id}`),
])

/** Namespaces owned by the runtime or a connector: an app cannot raise its own errors in them. */
const RESERVED_ERROR_NAMESPACES = new Set(['HTTP', 'MULE', 'OS', 'SALESFORCE', 'OUTLOOK365', 'AZURE-EVENTHUBS', 'SOCKETS', 'TLS', 'SECURE-PROPERTIES'])

/** Prefix -> namespace URI suffix and schemaLocation suffix (section 8; secure-properties from its module docs). */
const NAMESPACES: Record<string, { uri: string; xsd: string }> = {
  '': { uri: 'core', xsd: 'core/current/mule.xsd' },
  http: { uri: 'http', xsd: 'http/current/mule-http.xsd' },
  sockets: { uri: 'sockets', xsd: 'sockets/current/mule-sockets.xsd' },
  tls: { uri: 'tls', xsd: 'tls/current/mule-tls.xsd' },
  ee: { uri: 'ee/core', xsd: 'ee/core/current/mule-ee.xsd' },
  os: { uri: 'os', xsd: 'os/current/mule-os.xsd' },
  salesforce: { uri: 'salesforce', xsd: 'salesforce/current/mule-salesforce.xsd' },
  outlook365: { uri: 'outlook365', xsd: 'outlook365/current/mule-outlook365.xsd' },
  'azure-eventhubs': { uri: 'azure-eventhubs', xsd: 'azure-eventhubs/current/mule-azure-eventhubs.xsd' },
  'secure-properties': { uri: 'secure-properties', xsd: 'secure-properties/current/mule-secure-properties.xsd' },
}
const MULE_SCHEMA = 'http://www.mulesoft.org/schema/mule/'

/** Section 10: the replay source's confirmed attribute spellings and replay options. */
const REPLAY_ATTRIBUTES = new Set(['config-ref', 'streamingChannel', 'replayOption', 'replayId', 'autoReplay', 'doc:name', 'doc:id', 'doc:description'])
const REPLAY_OPTIONS = new Set(['ONLY_NEW', 'ALL', 'FROM_REPLAY_ID', 'FROM_LAST_REPLAY_ID'])

/** Properties the deployment supplies (never a file in the app). */
const DEPLOY_TIME_PROPERTIES = new Set(['secure.key'])

// ---------------------------------------------------------------- the Mule XML

interface Element {
  tag: string
  attrs: Record<string, string>
  children: Element[]
  /** Text and CDATA content, concatenated. */
  text: string
  file: string
}

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> }

const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
})

function toElement(node: OrderedNode, file: string): Element | undefined {
  const tag = Object.keys(node).find((key) => key !== ':@')
  if (!tag || tag === '#text' || tag === '#cdata' || tag === '#comment') return undefined
  const element: Element = { tag, attrs: node[':@'] ?? {}, children: [], text: '', file }
  for (const child of node[tag] as OrderedNode[]) {
    if ('#text' in child) element.text += String(child['#text'])
    else if ('#cdata' in child) element.text += (child['#cdata'] as OrderedNode[]).map((part) => String(part['#text'] ?? '')).join('')
    else {
      const sub = toElement(child, file)
      if (sub) element.children.push(sub)
    }
  }
  return element
}

function descendants(element: Element): Element[] {
  return element.children.flatMap((child) => [child, ...descendants(child)])
}

function listFiles(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return listFiles(path, suffix)
    return entry.name.endsWith(suffix) ? [path] : []
  })
}

const xmlFiles = listFiles(muleDir, '.xml')
const xmlSources = new Map(xmlFiles.map((file) => [relative(appDir, file), readFileSync(file, 'utf8')]))
const roots: Element[] = []
for (const [file, source] of xmlSources) {
  if (XMLValidator.validate(source) !== true) continue
  const nodes = xmlParser.parse(source) as OrderedNode[]
  const rootElement = nodes.map((node) => toElement(node, file)).find((element) => element !== undefined)
  if (rootElement) roots.push(rootElement)
}
const allElements = roots.flatMap((rootElement) => [rootElement, ...descendants(rootElement)])
const byTag = (tag: string) => allElements.filter((element) => element.tag === tag)
const where = (element: Element) => `${element.file}: <${element.tag}${element.attrs['doc:name'] ? ` doc:name="${element.attrs['doc:name']}"` : ''}>`

// ---------------------------------------------------------------- a small, honest DataWeave reader

/**
 * Reads the keys of the object literal a DataWeave script evaluates to, without evaluating anything.
 * Understood: comments, the header/body split at `---`, string literals, nested brackets, keys written as
 * identifiers or quoted strings, the conditional form `(key: value) if (...)`, and values that are object literals
 * themselves (their keys are read too). Not understood, and reported as unreadable rather than guessed: a body that
 * is not one object literal (a function call, `++`, `match`, ...), dynamic keys `(expr): value`, and regex literals.
 * Values are never evaluated, so keys produced by a function or a `++` inside a value are not seen.
 */
interface ObjectShape {
  keys: Map<string, ObjectShape | undefined>
}

class Unreadable extends Error {
  override name = 'Unreadable'
}

function stripComments(source: string): string {
  let out = ''
  let quote: string | undefined
  for (let i = 0; i < source.length; i++) {
    const char = source[i]
    if (quote) {
      out += char
      if (char === '\\') out += source[++i] ?? ''
      else if (char === quote) quote = undefined
    } else if (char === '"' || char === "'" || char === '`') {
      quote = char
      out += char
    } else if (char === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++
      out += '\n'
    } else if (char === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2)
      i = end < 0 ? source.length : end + 1
    } else out += char
  }
  return out
}

function bodyOf(script: string): string {
  const code = stripComments(script)
  const separator = /(?:^|\s)---(?:\s|$)/.exec(code)
  return separator ? code.slice(separator.index + separator[0].length) : code
}

const skipSpace = (source: string, at: number) => {
  while (at < source.length && /\s/.test(source[at])) at++
  return at
}

/** Index just past the string literal that starts at `at`. */
function skipString(source: string, at: number): number {
  const quote = source[at]
  for (let i = at + 1; i < source.length; i++) {
    if (source[i] === '\\') i++
    else if (source[i] === quote) return i + 1
  }
  throw new Unreadable('unterminated string')
}

/** Index of the next `,` or closing bracket at this nesting level, skipping strings and nested brackets. */
function skipValue(source: string, at: number): number {
  let depth = 0
  for (let i = at; i < source.length; i++) {
    const char = source[i]
    if (char === '"' || char === "'" || char === '`') i = skipString(source, i) - 1
    else if ('([{'.includes(char)) depth++
    else if (')]}'.includes(char)) {
      if (depth === 0) return i
      depth--
    } else if (char === ',' && depth === 0) return i
  }
  throw new Unreadable('unbalanced brackets')
}

function readKey(source: string, at: number): { key: string; next: number } {
  const identifier = /^[A-Za-z_$][\w$]*/.exec(source.slice(at))
  let key: string
  let next: number
  if (identifier) {
    key = identifier[0]
    next = at + key.length
  } else if (source[at] === '"' || source[at] === "'") {
    next = skipString(source, at)
    key = source.slice(at + 1, next - 1)
  } else throw new Unreadable(`cannot read a key at "${source.slice(at, at + 30)}"`)
  next = skipSpace(source, next)
  if (source[next] !== ':') throw new Unreadable(`expected ":" after key ${key}`)
  return { key, next: next + 1 }
}

function readObject(source: string, at: number): { shape: ObjectShape; next: number } {
  if (source[at] !== '{') throw new Unreadable(`not an object literal: "${source.slice(at, at + 30)}"`)
  const shape: ObjectShape = { keys: new Map() }
  let i = skipSpace(source, at + 1)
  if (source[i] === '}') return { shape, next: i + 1 }
  for (;;) {
    i = skipSpace(source, i)
    let conditional = false
    if (source[i] === '(') {
      conditional = true
      i = skipSpace(source, i + 1)
    }
    const { key, next } = readKey(source, i)
    i = skipSpace(source, next)
    let nested: ObjectShape | undefined
    if (source[i] === '{') {
      const inner = readObject(source, i)
      nested = inner.shape
      i = skipSpace(source, inner.next)
      if (source[i] !== ',' && source[i] !== '}' && source[i] !== ')') i = skipValue(source, i)
    } else i = skipValue(source, i)
    if (conditional) {
      if (source[i] !== ')') throw new Unreadable(`dynamic key or unclosed conditional entry near ${key}`)
      i = skipSpace(source, i + 1)
      if (!source.startsWith('if', i)) throw new Unreadable(`dynamic key (expr): value near ${key}`)
      i = skipValue(source, i + 2)
    }
    shape.keys.set(key, nested)
    if (source[i] === '}') return { shape, next: i + 1 }
    if (source[i] !== ',') throw new Unreadable(`unexpected "${source[i]}" after ${key}`)
    i++
  }
}

/** The object literal a script (or a `#[...]` expression) evaluates to. */
function readObjectScript(script: string): ObjectShape {
  const expression = script.trim().replace(/^#\[([\s\S]*)\]$/, '$1')
  const body = bodyOf(expression)
  if (/\b(?:scan|match|matches|replace|splitBy)\s+\//.test(body)) throw new Unreadable('regex literals are not understood')
  const start = skipSpace(body, 0)
  const { shape, next } = readObject(body, start)
  if (skipSpace(body, next) !== body.length) throw new Unreadable('the body is more than one object literal')
  return shape
}

t.test('the DataWeave reader reads keys, conditional and nested entries, and refuses what it cannot read', async (t) => {
  const shape = readObjectScript(`%dw 2.0
// a comment with { braces: 1 }
output application/json
var x = { hidden: 1 }
---
{
  tenant: p('sync.tenant'), "quoted": "a, } b",
  (maybe: [1, { inner: 2 }]) if (x.hidden == 1),
  source: { system: "s", itemId: f({ deep: 1 }) },
  call: f(1, 2)
}`)
  t.same([...shape.keys.keys()], ['tenant', 'quoted', 'maybe', 'source', 'call'])
  t.same([...(shape.keys.get('source')?.keys.keys() ?? [])], ['system', 'itemId'])
  t.equal(shape.keys.get('maybe'), undefined)
  t.same([...readObjectScript('#[{ system: vars.a, itemId: vars.b }]').keys.keys()], ['system', 'itemId'])
  t.throws(() => readObjectScript('%dw 2.0\n---\n{ (p("k")): 1 }'), { name: 'Unreadable' })
  t.throws(() => readObjectScript('%dw 2.0\n---\nf(payload) ++ { a: 1 }'), { name: 'Unreadable' })
  t.throws(() => readObjectScript('%dw 2.0\n---\n{ a: 1 } ++ { b: 2 }'), { name: 'Unreadable' })
})

// ---------------------------------------------------------------- the OpenAPI document

type Schema = Record<string, unknown>
interface Operation {
  requestBody?: { content?: Record<string, { schema?: Schema }> }
  parameters?: Array<{ name: string; in: string } | { $ref: string }>
}
type OpenApi = { paths?: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema>; parameters?: Record<string, { name: string; in: string }> } }

const openapi: OpenApi | undefined = existsSync(openapiFile) ? (parseYaml(readFileSync(openapiFile, 'utf8')) as OpenApi) : undefined
const MISSING_OPENAPI = 'openapi/openapi.yaml is missing: generate it with `npm run openapi`'

function resolve(schema: Schema | undefined): Schema | undefined {
  const seen = new Set<string>()
  let current = schema
  while (current && typeof current.$ref === 'string') {
    const ref = current.$ref
    if (seen.has(ref) || !ref.startsWith('#/components/schemas/')) return undefined
    seen.add(ref)
    current = openapi?.components?.schemas?.[decodeURIComponent(ref.slice('#/components/schemas/'.length))]
  }
  return current
}

/** Every property a value of this schema may have, across allOf/oneOf/anyOf; undefined when it names none. */
function propertiesOf(schema: Schema | undefined): Map<string, Schema> | undefined {
  const resolved = resolve(schema)
  if (!resolved) return undefined
  const found = new Map<string, Schema>()
  let named = false
  const own = resolved.properties as Record<string, Schema> | undefined
  if (own) {
    named = true
    for (const [key, value] of Object.entries(own)) found.set(key, value)
  }
  for (const combiner of ['allOf', 'oneOf', 'anyOf']) {
    for (const part of (resolved[combiner] as Schema[] | undefined) ?? []) {
      const more = propertiesOf(part)
      if (more) {
        named = true
        for (const [key, value] of more) if (!found.has(key)) found.set(key, value)
      }
    }
  }
  return named ? found : undefined
}

/** Compares OpenAPI templates and Mule paths by shape: `/correlate/{system}/{itemId}` matches any parameter names. */
const templateShape = (path: string) => path.replace(/\{[^}]+\}/g, '{}')
const templateParams = (path: string) => [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1])

function findOperation(method: string, path: string): { template: string; operation: Operation } | undefined {
  for (const [template, item] of Object.entries(openapi?.paths ?? {})) {
    if (templateShape(template) !== templateShape(path)) continue
    const operation = item[method.toLowerCase()]
    if (operation) return { template, operation }
  }
  return undefined
}

function requestSchema(operation: Operation): Schema | undefined {
  const content = operation.requestBody?.content ?? {}
  return (content['application/json'] ?? Object.values(content)[0])?.schema
}

function queryParams(operation: Operation, template: string): Set<string> {
  const pathItem = openapi?.paths?.[template] as { parameters?: Operation['parameters'] } | undefined
  const params = [...(pathItem?.parameters ?? []), ...(operation.parameters ?? [])].map((param) =>
    '$ref' in param ? openapi?.components?.parameters?.[param.$ref.split('/').pop() ?? ''] : param,
  )
  return new Set(params.filter((param) => param?.in === 'query').map((param) => param!.name))
}

/** Keys of the literal (and of its nested literals) that the schema does not name. */
function unknownKeys(shape: ObjectShape, schema: Schema | undefined, at: string): string[] {
  const properties = propertiesOf(schema)
  if (!properties) return [`${at || '(body)'}: the schema names no properties, so nothing can be checked`]
  const problems: string[] = []
  for (const [key, nested] of shape.keys) {
    const path = at ? `${at}.${key}` : key
    if (!properties.has(key)) problems.push(`${path} is not in the schema (known: ${[...properties.keys()].join(', ')})`)
    else if (nested && propertiesOf(properties.get(key))) problems.push(...unknownKeys(nested, properties.get(key), path))
  }
  return problems
}

// ---------------------------------------------------------------- sidecar calls as the flows make them

interface SidecarRequest {
  element: Element
  method: string
  path: string
  operation?: string
}

const sidecarCallFlow = byTag('flow').find((flow) => flow.attrs.name === 'sidecar-call')

/** Request configs that point at the sidecar (their host is a sidecar.* property); a Graph config would not. */
const sidecarConfigs = byTag('http:request-config').filter((config) =>
  descendants(config).some((element) => element.tag === 'http:request-connection' && /\$\{sidecar\./.test(element.attrs.host ?? '')),
)
const sidecarConfigNames = new Set(sidecarConfigs.map((config) => config.attrs.name))

/** Every http:request, with the sidecar-call operation (`vars.sidecarOperation == '...'`) whose branch holds it. */
function allRequests(): SidecarRequest[] {
  const requests: SidecarRequest[] = []
  const visit = (element: Element, operation: string | undefined) => {
    const here = element.tag === 'when' ? /vars\.sidecarOperation\s*==\s*'([^']+)'/.exec(element.attrs.expression ?? '')?.[1] ?? operation : operation
    if (element.tag === 'http:request') {
      requests.push({ element, method: (element.attrs.method ?? 'GET').toUpperCase(), path: element.attrs.path ?? '', operation: here })
    }
    for (const child of element.children) visit(child, here)
  }
  for (const rootElement of roots) visit(rootElement, undefined)
  return requests
}

const sidecarRequests = () => allRequests().filter((request) => sidecarConfigNames.has(request.element.attrs['config-ref']))

/** Transforms that prepare a sidecar-call: the operation they set and the body file they build. */
function sidecarCallers() {
  return byTag('ee:transform').flatMap((transform) => {
    const inside = descendants(transform)
    const operation = inside.find((element) => element.tag === 'ee:set-variable' && element.attrs.variableName === 'sidecarOperation')
    if (!operation) return []
    const name = /^\s*"([^"]+)"\s*$/.exec(operation.text)?.[1]
    const body = inside.find((element) => element.tag === 'ee:set-payload')
    return [{ transform, operation: name, bodyResource: body?.attrs.resource, inlineBody: body && !body.attrs.resource }]
  })
}

const SIDECAR_ANNOTATION = /^\s*\/\/\s*sidecar-request:\s*([A-Z]+)\s+(\S+)\s*$/m
const sidecarBodyFiles = listFiles(join(resourcesDir, 'dwl/sidecar'), '.dwl')

// ---------------------------------------------------------------- properties

function flatten(value: unknown, prefix = '', into = new Map<string, unknown>()): Map<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into)
  } else if (prefix) into.set(prefix, value)
  return into
}

const readYaml = (name: string) => (existsSync(join(resourcesDir, name)) ? flatten(parseYaml(readFileSync(join(resourcesDir, name), 'utf8'))) : new Map())

// ================================================================= the checks

t.test('the app has the layout Anypoint Studio imports', async (t) => {
  for (const file of ['pom.xml', 'mule-artifact.json', 'README.md', 'src/main/resources/config.yaml', 'src/main/resources/secure-config.yaml']) {
    t.ok(existsSync(join(appDir, file)), `${file} exists`)
  }
  t.ok(xmlFiles.length > 0, 'src/main/mule holds flows')
  const pom = readFileSync(join(appDir, 'pom.xml'), 'utf8')
  t.equal(XMLValidator.validate(pom), true, 'pom.xml is well-formed')
  t.match(pom, /<packaging>mule-application<\/packaging>/, 'pom.xml packages a mule-application')
  const artifact = JSON.parse(readFileSync(join(appDir, 'mule-artifact.json'), 'utf8')) as { minMuleVersion?: string }
  t.match(artifact.minMuleVersion ?? '', /^4\.\d+\.\d+$/, 'mule-artifact.json names a Mule 4 runtime')
})

t.test('every Mule XML file is well-formed', async (t) => {
  for (const [file, source] of xmlSources) {
    const result = XMLValidator.validate(source)
    t.equal(result, true, `${file} is well-formed${result === true ? '' : `: ${JSON.stringify(result.err)}`}`)
  }
  t.equal(roots.length, xmlSources.size, 'every file has a root element')
  for (const rootElement of roots) t.equal(rootElement.tag, 'mule', `${rootElement.file}: the root is <mule>`)
})

t.test('every prefix is declared and every namespace has its schemaLocation', async (t) => {
  for (const rootElement of roots) {
    const declared = new Map<string, string>()
    for (const [name, value] of Object.entries(rootElement.attrs)) {
      if (name === 'xmlns') declared.set('', value)
      else if (name.startsWith('xmlns:')) declared.set(name.slice(6), value)
    }
    const used = new Set<string>()
    for (const element of [rootElement, ...descendants(rootElement)]) {
      used.add(element.tag.includes(':') ? element.tag.split(':')[0] : '')
      for (const name of Object.keys(element.attrs)) {
        if (name.includes(':') && !name.startsWith('xmlns')) used.add(name.split(':')[0])
      }
    }
    for (const prefix of used) t.ok(declared.has(prefix), `${rootElement.file}: prefix "${prefix || '(default)'}" is declared`)

    const locations = (rootElement.attrs['xsi:schemaLocation'] ?? '').trim().split(/\s+/)
    const pairs = new Map<string, string>()
    for (let i = 0; i + 1 < locations.length; i += 2) pairs.set(locations[i], locations[i + 1])
    for (const [prefix, uri] of declared) {
      if (prefix === 'doc' || prefix === 'xsi') continue
      const expected = NAMESPACES[prefix]
      if (!expected) {
        t.fail(`${rootElement.file}: prefix "${prefix}" is not one the reference documents`)
        continue
      }
      t.equal(uri, MULE_SCHEMA + expected.uri, `${rootElement.file}: namespace of "${prefix || '(default)'}"`)
      t.equal(pairs.get(uri), MULE_SCHEMA + expected.xsd, `${rootElement.file}: schemaLocation of "${prefix || '(default)'}"`)
    }
    for (const uri of pairs.keys()) t.ok([...declared.values()].includes(uri), `${rootElement.file}: schemaLocation ${uri} belongs to a declared prefix`)
  }
})

t.test('every config-ref, flow-ref and error-handler ref resolves', async (t) => {
  const globals = roots.flatMap((rootElement) => rootElement.children)
  const names = globals.map((element) => element.attrs.name).filter(Boolean)
  t.same(names.filter((name, index) => names.indexOf(name) !== index), [], 'global names are unique across the app')
  const flows = new Set(globals.filter((element) => element.tag === 'flow' || element.tag === 'sub-flow').map((element) => element.attrs.name))
  const configs = new Set(globals.filter((element) => element.tag !== 'flow' && element.tag !== 'sub-flow' && element.attrs.name).map((element) => element.attrs.name))
  const handlers = new Set(globals.filter((element) => element.tag === 'error-handler').map((element) => element.attrs.name))

  const configRefs = allElements.filter((element) => element.attrs['config-ref'] !== undefined)
  t.ok(configRefs.length > 0, 'the flows use config-ref')
  for (const element of configRefs) t.ok(configs.has(element.attrs['config-ref']), `${where(element)} config-ref="${element.attrs['config-ref']}" resolves`)
  const flowRefs = byTag('flow-ref')
  t.ok(flowRefs.length > 0, 'the flows use flow-ref')
  for (const element of flowRefs) {
    t.notMatch(element.attrs.name ?? '', /#\[/, `${where(element)} names a static flow`)
    t.ok(flows.has(element.attrs.name), `${where(element)} name="${element.attrs.name}" resolves`)
  }
  for (const element of byTag('error-handler').filter((handler) => handler.attrs.ref)) {
    t.ok(handlers.has(element.attrs.ref), `${where(element)} ref="${element.attrs.ref}" resolves`)
  }
})

t.test('only error types that exist are named', async (t) => {
  const raised = new Set<string>()
  for (const element of byTag('raise-error')) {
    const type = element.attrs.type ?? ''
    const namespace = type.split(':')[0]
    t.match(type, /^[A-Z][A-Z0-9_-]*:[A-Z][A-Z0-9_]*$/, `${where(element)} raises a NAMESPACE:IDENTIFIER type`)
    t.notOk(RESERVED_ERROR_NAMESPACES.has(namespace), `${where(element)} raises ${type} in the app's own namespace`)
    raised.add(type)
  }
  for (const element of byTag('error-mapping')) if (element.attrs.targetType) raised.add(element.attrs.targetType)

  const named: Array<{ element: Element; type: string }> = []
  for (const element of [...byTag('on-error-continue'), ...byTag('on-error-propagate')]) {
    for (const type of (element.attrs.type ?? 'ANY').split(',').map((part) => part.trim())) named.push({ element, type })
  }
  for (const element of byTag('error-mapping')) if (element.attrs.sourceType) named.push({ element, type: element.attrs.sourceType })
  t.ok(named.length > 0, 'the flows handle errors')
  for (const { element, type } of named) {
    const qualified = type.includes(':') || type === 'ANY' ? type : `MULE:${type}`
    t.ok(KNOWN_ERROR_TYPES.has(qualified) || raised.has(qualified), `${where(element)} ${type} exists (released connectors have no HTTP:CONFLICT and the like)`)
  }
})

t.test('the Salesforce replay source uses only real attributes', async (t) => {
  const sources = byTag('salesforce:replay-channel-listener')
  t.equal(sources.length, 1, 'one replay channel listener')
  for (const source of sources) {
    for (const name of Object.keys(source.attrs)) t.ok(REPLAY_ATTRIBUTES.has(name), `${where(source)} attribute ${name} is documented`)
    t.equal(source.attrs.streamingChannel, '/data/EventChangeEvent', 'listens on the Event change channel')
    t.ok(REPLAY_OPTIONS.has(source.attrs.replayOption ?? ''), `replayOption "${source.attrs.replayOption}" is one of ${[...REPLAY_OPTIONS].join(', ')}`)
    t.same(source.children, [], 'no child elements (no scheduling strategy on a streaming source)')
  }
})

t.test('every http:request path and method is in the OpenAPI', async (t) => {
  if (!openapi) return t.fail(MISSING_OPENAPI)
  t.ok(sidecarConfigs.length > 0, 'an http:request-config points at the sidecar (host ${sidecar.host})')
  for (const request of allRequests().filter((candidate) => !sidecarConfigNames.has(candidate.element.attrs['config-ref']))) {
    const config = byTag('http:request-config').find((candidate) => candidate.attrs.name === request.element.attrs['config-ref'])
    if (config) t.comment(`${where(request.element)} goes to ${config.attrs.name}, not the sidecar: not checked against the OpenAPI`)
    else t.fail(`${where(request.element)} names no http:request-config, so nothing says where it goes`)
  }
  const requests = sidecarRequests()
  t.ok(requests.length > 0, 'the flows call the sidecar')
  for (const request of requests) {
    const label = `${where(request.element)} ${request.method} ${request.path}`
    t.notOk(request.element.attrs.url, `${label} uses path, not url`)
    const found = findOperation(request.method, request.path)
    if (!found) {
      t.fail(`${label} is not in the OpenAPI`)
      continue
    }
    t.pass(`${label} is ${request.method} ${found.template}`)
    const uriParams = request.element.children.find((child) => child.tag === 'http:uri-params')
    const wanted = templateParams(request.path)
    t.same(uriParams ? [...readObjectScript(uriParams.text).keys.keys()].sort() : [], [...wanted].sort(), `${label} fills every {param} of its path`)
    const query = request.element.children.find((child) => child.tag === 'http:query-params')
    if (query) {
      const known = queryParams(found.operation, found.template)
      for (const name of readObjectScript(query.text).keys.keys()) t.ok(known.has(name), `${label} query parameter ${name} is in the OpenAPI`)
    }
    const headers = request.element.children.find((child) => child.tag === 'http:headers')
    t.ok(headers, `${label} sends headers (X-Correlation-ID)`)
  }
  const headerFile = readFileSync(join(resourcesDir, 'dwl/support/sidecar-headers.dwl'), 'utf8')
  t.match(headerFile, /"X-Correlation-ID":\s*correlationId/, 'the sidecar headers pass the correlation id through')
})

t.test('the flows use all three endpoints and close every claim', async (t) => {
  const paths = new Set(sidecarRequests().map((request) => `${request.method} ${request.path}`))
  for (const wanted of ['POST /dedupe', 'POST /correlate', 'POST /resolve-conflict', 'POST /dedupe/commit', 'POST /dedupe/release', 'POST /correlate/confirm']) {
    t.ok(paths.has(wanted), `${wanted} is called`)
  }
  for (const config of sidecarConfigs) {
    const connection = config.children.find((child) => child.tag === 'http:request-connection')
    t.ok(config.attrs.responseTimeout, `${config.attrs.name} sets responseTimeout`)
    const socket = connection && descendants(connection).find((element) => element.tag === 'sockets:tcp-client-socket-properties')
    t.ok(socket?.attrs.connectionTimeout, `${config.attrs.name} sets a connection timeout`)
    const token = descendants(config).find((element) => element.tag === 'http:default-header' && element.attrs.key === 'Authorization')
    t.match(token?.attrs.value ?? '', /^Bearer \$\{secure::[\w.-]+\}$/, `${config.attrs.name} sends a bearer token from secure properties, as a static value`)
  }
  for (const scope of byTag('until-successful')) {
    t.ok(scope.children.some((child) => child.tag === 'try'), `${where(scope)} stops retrying on permanent errors with a try`)
  }
})

t.test('a claim is released only before a write landed, and no refusal that retrying can cure drops a change', async (t) => {
  // Every try that holds a claim sends any failure through the flow that releases only when nothing was written.
  const holding = byTag('try').filter((element) => element.attrs['doc:name'] === 'Holding the claim')
  t.ok(holding.length >= 2, 'both directions hold their claim in a try')
  for (const scope of holding) {
    const anyHandler = descendants(scope).find((element) => element.tag === 'on-error-propagate' && element.attrs.type === 'ANY')
    const refs = anyHandler ? descendants(anyHandler).filter((element) => element.tag === 'flow-ref').map((element) => element.attrs.name) : []
    t.same(refs, ['sync-release-unless-written'], `${where(scope)}: any failure goes through sync-release-unless-written`)
  }
  const lastStep = (name: string) => byTag('flow').find((element) => element.attrs.name === name)?.children.at(-1)?.attrs ?? {}
  t.match(lastStep('salesforce-write'), { variableName: 'written', value: '#[true]' }, 'salesforce-write marks a landed write as its last step')
  t.match(lastStep('outlook-call'), { variableName: 'written', value: /op != 'get'/ }, 'outlook-call marks a landed write (not a read) as its last step')
  // 408 and 429 are the untyped and typed 4xx that say "later": the permanent-4xx handler must let them propagate.
  const untyped = descendants(byTag('flow').find((element) => element.attrs.name === 'sidecar-call')!).find(
    (element) => element.tag === 'on-error-continue' && element.attrs.type === 'ANY',
  )
  t.match(untyped?.attrs.when ?? '', /and not \(\[408, 429\] contains /, 'the untyped-4xx handler leaves 408 and 429 to the retry')
  // A misconfigured sidecar refuses every change alike: the listener answers 503, so the pre-filter keeps them.
  const listener503 = byTag('on-error-propagate').find((element) => element.attrs['doc:name'] === '503')
  t.match(listener503?.attrs.type ?? '', /SIDECAR:MISCONFIGURED/, 'SIDECAR:MISCONFIGURED is answered 503')
})

t.test("a write starts only while enough of the claim's lease is left", async (t) => {
  const flow = (name: string) => byTag('flow').find((element) => element.attrs.name === name)!
  const checks = (element: Element) => element.tag === 'flow-ref' && element.attrs.name === 'sync-check-lease'
  for (const [name, condition] of [
    ['outlook-call', /op != 'get' and not \(vars\.outlookCall\.ownCopy default false\)/],
    ['salesforce-write', /not \(vars\.salesforceWrite\.ownCopy default false\)/],
  ] as const) {
    // inside the retries, before every attempt, and caught there so the retries stop
    const attempt = descendants(flow(name)).find((element) => element.tag === 'until-successful')?.children.find((element) => element.tag === 'try')
    const first = attempt?.children[0]
    t.equal(first?.tag, 'choice', `${name}: each attempt starts with the check`)
    const when = first?.children.find((element) => element.tag === 'when')
    t.match(when?.attrs.expression ?? '', condition, `${name}: writes under the claim, not the delete of our own copy`)
    t.ok(when?.children.some(checks), `${name}: calls sync-check-lease`)
    const handlers = attempt?.children.find((element) => element.tag === 'error-handler')?.children ?? []
    t.match(handlers[0]?.attrs ?? {}, { type: 'SYNC:LEASE_RUNNING_OUT' }, `${name}: the first handler stops the retries on it`)
    t.equal(handlers[0]?.tag, 'on-error-continue')
    const raised = descendants(flow(name)).filter((element) => element.tag === 'raise-error' && element.attrs.type === 'SYNC:LEASE_RUNNING_OUT')
    t.equal(raised.length, 1, `${name}: raises it again after the retries`)
  }
  const test = descendants(flow('sync-check-lease')).find((element) => element.tag === 'when')?.attrs.expression ?? ''
  // now + a quarter of the lease past the claim's expiresAt: too late to start
  t.match(test, /\(\(now\(\) as Number \{unit: 'milliseconds'\}\) \+ \(p\('sidecar\.leaseMs'\) as Number\) \/ 4\) > \(\(vars\.dedupe\.claim\.expiresAt as DateTime\) as Number \{unit: 'milliseconds'\}\)/)
  t.equal(descendants(flow('sync-check-lease')).find((element) => element.tag === 'raise-error')?.attrs.type, 'SYNC:LEASE_RUNNING_OUT')
  // every delete of our own extra copy says so, and skips the check
  const ownCopies = byTag('set-variable').filter((element) => element.attrs['doc:name'] === 'Our copy')
  t.ok(ownCopies.length >= 4)
  for (const element of ownCopies) t.match(element.attrs.value ?? '', /ownCopy: true/, `${where(element)} marks our own copy`)
  // the pre-filter redelivers; the sources that cannot start the change once more from /dedupe
  const listener503 = byTag('on-error-propagate').find((element) => element.attrs['doc:name'] === '503')
  t.match(listener503?.attrs.type ?? '', /SYNC:LEASE_RUNNING_OUT/)
  for (const name of ['salesforce-event-changes', 'outlook-changes-from-eventhubs']) {
    const again = descendants(flow(name)).find((element) => element.tag === 'on-error-continue' && element.attrs.type === 'SYNC:LEASE_RUNNING_OUT')
    t.notOk(again?.attrs.when, `${name}: once more also after a landed write (the claim lapses, /dedupe waits it out)`)
    t.ok(again && descendants(again).some((element) => element.tag === 'flow-ref'), `${name}: runs the change again`)
  }
})

t.test('every DataWeave body sent to the sidecar uses only fields its schema knows', async (t) => {
  if (!openapi) return t.fail(MISSING_OPENAPI)
  t.ok(sidecarBodyFiles.length > 0, 'dwl/sidecar holds the request bodies')
  for (const file of sidecarBodyFiles) {
    const name = relative(resourcesDir, file)
    const script = readFileSync(file, 'utf8')
    const annotation = SIDECAR_ANNOTATION.exec(script)
    if (!annotation) {
      t.fail(`${name} says which request it builds ("// sidecar-request: POST /path")`)
      continue
    }
    const [, method, path] = annotation
    t.match(script, /^\s*output application\/json\s*$/m, `${name} writes JSON`)
    const found = findOperation(method, path)
    if (!found) {
      t.fail(`${name}: ${method} ${path} is not in the OpenAPI`)
      continue
    }
    let shape: ObjectShape
    try {
      shape = readObjectScript(script)
    } catch (error) {
      t.fail(`${name}: the reader cannot check it (${(error as Error).message})`)
      continue
    }
    const problems = unknownKeys(shape, requestSchema(found.operation), '')
    t.same(problems, [], `${name}: ${[...shape.keys.keys()].join(', ')} are ${method} ${found.template} request fields`)
  }
})

t.test('each caller of sidecar-call builds the body its endpoint expects', async (t) => {
  t.ok(sidecarCallFlow, 'the flow sidecar-call exists')
  const byOperation = new Map<string, SidecarRequest>()
  for (const request of sidecarRequests()) if (request.operation) byOperation.set(request.operation, request)
  const callers = sidecarCallers()
  t.ok(callers.length > 0, 'flows call sidecar-call')
  const usedBodies = new Set<string>()
  for (const caller of callers) {
    const label = `${where(caller.transform)} (${caller.operation})`
    const request = caller.operation ? byOperation.get(caller.operation) : undefined
    if (!request) {
      t.fail(`${label}: sidecar-call has no branch for this operation`)
      continue
    }
    t.notOk(caller.inlineBody, `${label}: the body comes from a dwl/sidecar file, so it is checked against the schema`)
    if (request.method === 'GET') {
      t.notOk(caller.bodyResource, `${label}: a GET sends no body`)
      continue
    }
    const resource = caller.bodyResource ?? ''
    t.match(resource, /^dwl\/sidecar\/.+\.dwl$/, `${label}: the body is built by a dwl/sidecar file`)
    if (!existsSync(join(resourcesDir, resource))) continue
    usedBodies.add(resource)
    const annotation = SIDECAR_ANNOTATION.exec(readFileSync(join(resourcesDir, resource), 'utf8'))
    t.equal(annotation ? `${annotation[1]} ${annotation[2]}` : undefined, `${request.method} ${request.path}`, `${label}: ${resource} builds the body of ${request.method} ${request.path}`)
  }
  for (const file of sidecarBodyFiles) t.ok(usedBodies.has(relative(resourcesDir, file)), `${relative(resourcesDir, file)} is used by a flow`)
})

/**
 * True when `contains` written between its arguments shares a parenthesis level with `and` or `or` in one line of
 * DataWeave: it binds more loosely than both, so `a and [x] contains y` reads as `(a and [x]) contains y`.
 */
function infixContainsBesideAndOr(line: string): boolean {
  let rest = line.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
  for (;;) {
    const group = /\(([^()]*)\)/.exec(rest)
    const level = group ? group[1] : rest
    if (/\bcontains\b/.test(level) && /\b(?:and|or)\b/.test(level)) return true
    if (!group) return false
    rest = rest.slice(0, group.index) + '_' + rest.slice(group.index + group[0].length)
  }
}

t.test('no DataWeave expression puts an infix contains beside and/or without parentheses', async (t) => {
  t.ok(infixContainsBesideAndOr(`#[if (vars.wait and ['a', 'b'] contains vars.op) 1 else 2]`), 'the check finds the mistake')
  t.notOk(infixContainsBesideAndOr(`#[if (vars.wait and (['a', 'b'] contains vars.op)) 1 else 2]`), 'and passes its fix')
  const expressions: Array<[string, string]> = []
  for (const file of xmlFiles) {
    const source = readFileSync(file, 'utf8').replace(/<!--[\s\S]*?-->/g, '')
    for (const [, expression] of source.matchAll(/="(#\[[^"]*)"/g)) expressions.push([file, expression])
    for (const [, script] of source.matchAll(/<!\[CDATA\[([\s\S]*?)\]\]>/g)) expressions.push([file, script])
  }
  for (const file of listFiles(join(resourcesDir, 'dwl'), '.dwl')) expressions.push([file, readFileSync(file, 'utf8')])
  const found = expressions.flatMap(([file, text]) =>
    text
      .split('\n')
      .map((line) => line.replace(/\/\/.*$/, ''))
      .filter(infixContainsBesideAndOr)
      .map((line) => `${relative(appDir, file)}: ${line.trim()}`),
  )
  t.same(found, [], 'each infix contains next to and/or has its own parentheses')
})

t.test('every resource file, DataWeave module and property resolves', async (t) => {
  const config = readYaml('config.yaml')
  const secure = readYaml('secure-config.yaml')
  const dwlFiles = listFiles(join(resourcesDir, 'dwl'), '.dwl')
  for (const element of allElements.filter((candidate) => candidate.attrs.resource)) {
    t.ok(existsSync(join(resourcesDir, element.attrs.resource)), `${where(element)} resource ${element.attrs.resource} exists`)
  }
  for (const element of byTag('configuration-properties')) t.ok(existsSync(join(resourcesDir, element.attrs.file)), `${element.attrs.file} exists`)
  const texts = [
    ...[...xmlSources.entries()].map(([file, source]) => ({ file, source })),
    ...dwlFiles.map((file) => ({ file: relative(appDir, file), source: readFileSync(file, 'utf8') })),
  ]
  for (const { file, source } of texts) {
    for (const match of source.matchAll(/^\s*import\s+(.+?)\s+from\s+([\w:]+)/gm)) {
      const [, names, module] = match
      if (module.startsWith('dw::')) continue
      const moduleFile = join(resourcesDir, `${module.replaceAll('::', '/')}.dwl`)
      if (!existsSync(moduleFile)) {
        t.fail(`${file} imports ${module}, which does not exist`)
        continue
      }
      const defined = new Set([...readFileSync(moduleFile, 'utf8').matchAll(/^\s*fun\s+(\w+)/gm)].map((found) => found[1]))
      for (const name of names.split(',').map((part) => part.trim()).filter((part) => part !== '*')) {
        t.ok(defined.has(name), `${file} imports ${name} from ${module}, which defines it`)
      }
    }
  }
  const seen = new Set<string>()
  for (const { file, source } of texts) {
    const keys = [...source.matchAll(/\$\{([^}]+)\}/g), ...source.matchAll(/\bp\('([^']+)'\)/g)].map((match) => match[1])
    for (const key of keys) {
      if (seen.has(`${file}|${key}`)) continue
      seen.add(`${file}|${key}`)
      const ok = key.startsWith('secure::') ? secure.has(key.slice('secure::'.length)) : config.has(key) || DEPLOY_TIME_PROPERTIES.has(key)
      t.ok(ok, `${file}: property ${key} is defined`)
    }
  }
})

t.test('every variable a flow reads is set somewhere, and every module function called by name exists', async (t) => {
  const texts = [
    ...[...xmlSources.entries()].map(([file, source]) => ({ file, source: source.replace(/<!--[\s\S]*?-->/g, '') })),
    ...listFiles(join(resourcesDir, 'dwl'), '.dwl').map((file) => ({ file: relative(appDir, file), source: readFileSync(file, 'utf8') })),
  ]
  const set = new Set<string>()
  for (const element of allElements) {
    for (const name of ['variableName', 'target', 'counterVariableName', 'rootMessageVariableName']) {
      if (element.attrs[name]) set.add(element.attrs[name])
    }
  }
  const reads = (source: string) => [...source.replace(/\/\/.*$/gm, '').matchAll(/\bvars\.([A-Za-z_]\w*)/g)].map((match) => match[1])
  t.same(reads('vars.a ++ vars.b_2 // vars.c'), ['a', 'b_2'], 'the reader finds reads, not those in comments')
  const unset = texts.flatMap(({ file, source }) => reads(source).filter((name) => !set.has(name)).map((name) => `${file}: vars.${name}`))
  t.same([...new Set(unset)], [], 'no flow reads a variable nothing sets (a misspelt one is null, silently)')

  const calls = texts.flatMap(({ file, source }) =>
    [...source.matchAll(/\b((?:[a-z]\w*::)+[A-Z]\w*)::(\w+)\(/g)].map(([, module, name]) => ({ file, module, name })),
  )
  t.ok(calls.some((call) => call.module === 'dwl::Canonical'), 'the flows call a module function by its full name')
  for (const { file, module, name } of calls) {
    if (module.startsWith('dw::')) continue
    const moduleFile = join(resourcesDir, `${module.replaceAll('::', '/')}.dwl`)
    const defined = existsSync(moduleFile) ? new Set([...readFileSync(moduleFile, 'utf8').matchAll(/^\s*fun\s+(\w+)/gm)].map((found) => found[1])) : new Set()
    t.ok(defined.has(name), `${file} calls ${module}::${name}, which ${module} defines`)
  }
})
