// Entry of `npm run simulate`: parse the flags, run, print the summary, write the JSON, exit 1 when a check fails.
import { HELP, UsageError, parseOptions } from './options.js'
import { formatSummary, writeResult } from './report.js'
import { runSimulation } from './simulation.js'

async function main(): Promise<number> {
  let parsed
  try {
    parsed = parseOptions(process.argv.slice(2))
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`simulate: ${error.message}\n`)
      return 2
    }
    throw error
  }
  if (parsed === 'help') {
    process.stdout.write(HELP)
    return 0
  }
  const options = parsed
  const tty = process.stdout.isTTY === true
  let lastPrinted = 0
  // One line rewritten in place on a terminal; a line every 5 s into a file or CI log.
  const progress = (line: string) => {
    if (!options.progress) return
    if (tty) process.stdout.write(`\r\x1b[2K${line.slice(0, (process.stdout.columns ?? 160) - 1)}`)
    else if (Date.now() - lastPrinted >= 5_000) {
      lastPrinted = Date.now()
      process.stdout.write(`${line}\n`)
    }
  }
  const log = (line: string) => {
    if (tty && options.progress) process.stdout.write('\r\x1b[2K')
    process.stdout.write(`${line}\n`)
  }
  log(`simulate: seed ${options.seed}, ${options.store} store, ${options.workers} workers, ${options.meetings} meetings, ${options.durationMs / 1000} s`)

  // Ctrl-C ends the run early; runSimulation's finally stops the sidecars and Redis it started.
  const controller = new AbortController()
  const interrupt = () => {
    log('interrupted: stopping sidecars and Redis...')
    controller.abort()
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  let result
  try {
    result = await runSimulation(options, { progress, log, signal: controller.signal })
  } catch (error) {
    if (controller.signal.aborted) return 130
    throw error
  }
  if (tty && options.progress) process.stdout.write('\r\x1b[2K')
  if (options.resultsDir) writeResult(result, options.resultsDir)
  process.stdout.write(formatSummary(result))
  return result.ok ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`simulate failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
