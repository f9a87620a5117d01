// `npm run testnet`: a Kimura testnet of real node processes with faults and load, checked
// against three invariants (CometBFT's e2e runner in spirit). See --help and
// benchmarks/README.md. The first line says namespaces or loopback; the last is one JSON object.
import '../../src/shared/polyfill.js'
import { parseOptions, USAGE, UsageError } from './options.js'
import { Testnet } from './runner.js'
import { runGuarded } from './signals.js'

function print (line: string): void {
  process.stdout.write(`${line}\n`)
}

async function main (): Promise<number> {
  const argv = process.argv.slice(2)
  if (argv.includes('--help') || argv.includes('-h')) {
    print(USAGE)
    return 0
  }
  let options
  try {
    options = parseOptions(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`testnet: ${err.message}\n${USAGE}\n`)
    return 2
  }
  const testnet = new Testnet(options, print)
  try {
    const result = await runGuarded(testnet, async () => await testnet.run())
    for (const line of result.lines) print(line)
    print(JSON.stringify(result.summary))
    return result.ok ? 0 : 1
  } catch (err) {
    process.stderr.write(`testnet: ${testnet.signal.aborted ? 'interrupted' : 'the run failed'}: ${err instanceof Error ? err.message : String(err)}\n`)
    print(JSON.stringify({ testnet: { nodes: options.nodes, seed: options.seed }, ok: false, error: err instanceof Error ? err.message : String(err) }))
    return 1
  }
}

main().then(code => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`testnet: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
})
