import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import t from 'tap'
import { canRequireEsModules } from '../src/require-node.js'

t.test('require() of ES modules must be on: absent (before 20.19) or turned off is refused', async (t) => {
  t.ok(canRequireEsModules({ require_module: true }))
  t.notOk(canRequireEsModules({ require_module: false }))
  t.notOk(canRequireEsModules({}))
})

t.test('the server exits at once with the reason when require() of ES modules is off', async (t) => {
  const root = resolve(import.meta.dirname, '..')
  const child = spawn(process.execPath, ['--no-experimental-require-module', '--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    // port 0 and the memory store: were the check missing, the server would start instead of exiting
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await new Promise<number | null>((done) => child.once('exit', (exitCode) => done(exitCode)))
  clearTimeout(timer)
  t.equal(code, 1, output)
  t.match(output, /needs Node\.js 20\.19 or later on 20\.x, or 22\.12 or later.*turned off/)
  t.notMatch(output, /ERR_REQUIRE_ESM|listening/)
})
