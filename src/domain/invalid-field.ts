// The one error the pure domain throws for bad input; routes turn it into a 400 that names the field.

export interface InvalidField {
  path: string
  message: string
}

export class InvalidFieldError extends Error {
  /** Dotted path from the request body root, e.g. `outlook.event.start.timeZone`. */
  readonly path: string
  /** what is wrong with it, without the path */
  readonly fieldMessage: string
  /** further invalid fields found with this one, reported beside it */
  readonly others: readonly InvalidField[]

  constructor(path: string, message: string, others: readonly InvalidField[] = []) {
    super([`${path}: ${message}`, ...others.map((other) => `${other.path}: ${other.message}`)].join('; '))
    this.name = 'InvalidFieldError'
    this.path = path
    this.fieldMessage = message
    this.others = others
  }

  /** One error for several invalid fields (at least one). */
  static of(fields: readonly InvalidField[]): InvalidFieldError {
    const [first, ...others] = fields
    return new InvalidFieldError(first.path, first.message, others)
  }
}

/** The problem-details `errors[]` entries: the field's message without the path prefix, then the others. */
export function describeInvalidField(error: InvalidFieldError): InvalidField[] {
  return [{ path: error.path, message: error.fieldMessage }, ...error.others]
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return base ? `${base}.${key}` : String(key)
  return base ? `${base}.${key}` : key
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
