// Starts the tests' own Azurite blob endpoint (from npm) on a free loopback port: in memory, no telemetry, stopped by pid.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitForPort } from './redis-server.js'

// The well-known development account of the Azurite README (public, not a secret).
const ACCOUNT = 'devstoreaccount1'
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

const BIN = resolve(import.meta.dirname, '../../node_modules/.bin/azurite-blob')

export function azuriteSkipReason(): string | undefined {
  return existsSync(BIN) ? undefined : 'azurite is not installed (npm ci installs it as a dev dependency)'
}

export class Azurite {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<Azurite> {
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'css-azurite-'))
    // --skipApiVersionCheck: storage-blob 12.32 speaks a newer API version than Azurite 3.35 knows (reference §13).
    const child = spawn(
      BIN,
      ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--inMemoryPersistence', '--skipApiVersionCheck', '--disableTelemetry', '--silent'],
      { cwd: dir, stdio: 'ignore' },
    )
    try {
      await waitForPort(port, 20_000, child, 'azurite-blob')
    } catch (error) {
      child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      throw error
    }
    return new Azurite(port, child, dir)
  }

  get connectionString(): string {
    return `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:${this.port}/${ACCOUNT};`
  }

  async stop(): Promise<void> {
    const child = this.child
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((done) => child.once('exit', () => done()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}
