// Per-request loggers made on first use. At the production level most requests log nothing, and a pino child per
// request (bindings serialised, redaction wired) was a measurable share of the /dedupe path.
import type { FastifyBaseLogger } from 'fastify'

type Bindings = Parameters<FastifyBaseLogger['child']>[0]
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1]
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type Write = (...args: unknown[]) => void

/** A logger that can say whether a level is on (pino can); only such a parent gets lazy children. */
export interface LevelAwareLogger extends FastifyBaseLogger {
  isLevelEnabled(level: string): boolean
  bindings?(): Record<string, unknown>
  flush?(callback?: (error?: Error) => void): void
}

export function isLevelAware(logger: FastifyBaseLogger): logger is LevelAwareLogger {
  return typeof (logger as Partial<LevelAwareLogger>).isLevelEnabled === 'function'
}

/** Behaves as parent.child(bindings, options); the child is created the first time a line is actually written. */
export class LazyChildLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined

  constructor(
    private readonly parent: LevelAwareLogger,
    private readonly childBindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  get level(): string {
    return this.#child?.level ?? this.parent.level
  }

  set level(level: string) {
    this.#real().level = level
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args)
  }

  error(...args: unknown[]): void {
    this.#write('error', args)
  }

  warn(...args: unknown[]): void {
    this.#write('warn', args)
  }

  info(...args: unknown[]): void {
    this.#write('info', args)
  }

  debug(...args: unknown[]): void {
    this.#write('debug', args)
  }

  trace(...args: unknown[]): void {
    this.#write('trace', args)
  }

  silent(): void {}

  isLevelEnabled(level: string): boolean {
    return this.#child ? (this.#child as LevelAwareLogger).isLevelEnabled(level) : this.parent.isLevelEnabled(level)
  }

  bindings(): Record<string, unknown> {
    return (this.#real() as LevelAwareLogger).bindings?.() ?? { ...this.childBindings }
  }

  flush(callback?: (error?: Error) => void): void {
    this.parent.flush?.(callback)
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options)
  }

  #real(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.childBindings, this.options)
    return this.#child
  }

  #write(level: Level, args: unknown[]): void {
    if (this.#child || this.parent.isLevelEnabled(level)) (this.#real()[level] as Write)(...args)
  }
}

/**
 * Fastify's childLoggerFactory for a level-aware parent: a lazy child, except where a route sets its own log level,
 * which needs the real child at once.
 */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  return options?.level || !isLevelAware(logger) ? logger.child(bindings, options) : new LazyChildLogger(logger, bindings, options)
}
