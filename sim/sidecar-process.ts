// One sidecar as a child process (node --import tsx src/server.ts), so SIGKILL and restart are real.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { sleep } from './stats.js'

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))

export interface SidecarExit {
  at: number
  code: number | null
  signal: string | null
  /** false: it died without the simulation killing it (a crash worth reading the log tail for). */
  expected: boolean
}

export class SidecarProcess {
  private child?: ChildProcess
  private expectExit = false
  private readonly tail: string[] = []
  readonly exits: SidecarExit[] = []
  starts = 0

  constructor(
    readonly index: number,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly root = REPO_ROOT,
    private readonly readyTimeoutMs = 30_000,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  async start(): Promise<void> {
    if (this.running) return
    // Only what the sidecar needs: no API_TOKENS, STORE or NODE_OPTIONS leaking in from the caller's shell.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' }
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: this.root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    this.expectExit = false
    this.starts++
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue
        this.tail.push(line.length > 400 ? `${line.slice(0, 400)}...` : line)
        if (this.tail.length > 40) this.tail.shift()
      }
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    child.once('exit', (code, signal) => {
      this.exits.push({ at: Date.now(), code, signal, expected: this.expectExit })
    })
    await this.waitReady(child)
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`sidecar ${this.index} exited while starting (code ${child.exitCode}, signal ${child.signalCode}):\n${this.logTail().join('\n')}`)
      }
      try {
        const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1_000) })
        await response.arrayBuffer()
        if (response.status === 200) return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`sidecar ${this.index} not ready on port ${this.port} within ${this.readyTimeoutMs} ms:\n${this.logTail().join('\n')}`)
      await sleep(100)
    }
  }

  /** Ends this sidecar only, by its own pid; SIGKILL is the crash fault. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (!child || !this.running) return
    this.expectExit = true
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }

  logTail(): string[] {
    return [...this.tail]
  }

  unexpectedExits(): SidecarExit[] {
    return this.exits.filter((exit) => !exit.expected)
  }
}
