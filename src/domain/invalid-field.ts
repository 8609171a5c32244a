// The one error the pure domain throws for bad input; routes turn it into a 400 that names the field.

export class InvalidFieldError extends Error {
  /** Dotted path from the request body root, e.g. `outlook.event.start.timeZone`. */
  readonly path: string

  constructor(path: string, message: string) {
    super(`${path}: ${message}`)
    this.name = 'InvalidFieldError'
    this.path = path
  }
}

/** The message without the path prefix, for a problem-details `errors[]` entry. */
export function describeInvalidField(error: InvalidFieldError): { path: string; message: string } {
  const prefix = `${error.path}: `
  return { path: error.path, message: error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message }
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return base ? `${base}.${key}` : String(key)
  return base ? `${base}.${key}` : key
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
