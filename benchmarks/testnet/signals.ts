// Cleanup however the run ends. An 'exit' hook runs the synchronous cleanup (an uncaught error,
// process.exit). The first SIGINT, SIGTERM or SIGHUP aborts the run, whose finally cleans up;
// then the signal is raised again so the process ends of it (exit status 128 + n), unless
// someone else listens to it too. A second signal, or a cleanup that takes over 15 s, cleans up
// synchronously at once.
import type { Testnet } from './runner.js'

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
const FORCE_AFTER_MS = 15_000

export async function runGuarded<T> (testnet: Testnet, run: () => Promise<T>): Promise<T> {
  let caught: NodeJS.Signals | undefined
  let force: NodeJS.Timeout | undefined
  const onExit = (): void => { testnet.cleanupSync() }
  const uninstall = (): void => {
    process.off('exit', onExit)
    for (const s of SIGNALS) process.off(s, onSignal)
    clearTimeout(force)
  }
  const raise = (signal: NodeJS.Signals): void => {
    uninstall()
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  }
  function onSignal (signal: NodeJS.Signals): void {
    if (caught !== undefined) {
      testnet.cleanupSync()
      raise(signal)
      return
    }
    caught = signal
    process.stderr.write(`\ntestnet: ${signal}: stopping the nodes and removing what the run made\n`)
    testnet.abort(`interrupted by ${signal}`)
    force = setTimeout(() => { testnet.cleanupSync(); raise(signal) }, FORCE_AFTER_MS)
  }
  process.on('exit', onExit)
  for (const s of SIGNALS) process.on(s, onSignal)
  try {
    return await run()
  } finally {
    testnet.cleanupSync()
    if (caught === undefined) uninstall()
    else raise(caught)
  }
}
