// A 6-node testnet with every fault kind (issue 11 item 3): in network namespaces when this
// runs as root and they work, on loopback otherwise (the partition is then skipped). The three
// invariants must hold, and the run must leave no process, namespace, link or directory.
import '../../../src/shared/polyfill.js'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import test from 'ava'
import { parseOptions } from '../../../benchmarks/testnet/options.js'
import { Testnet } from '../../../benchmarks/testnet/runner.js'
import { runGuarded } from '../../../benchmarks/testnet/signals.js'

/** Its own prefix and subnet, so that a `npm run testnet` beside it is left alone. */
const FLAGS = [
  '--nodes', '6', '--duration', '24', '--block-interval-ms', '300', '--load', '40', '--load-peers', '1',
  '--faults', 'kill,pause,partition,restart', '--fault-count', '4', '--fault-ms', '4000', '--idle', '0',
  '--seed', '7', '--prefix', 'kimtt', '--subnet', '214', '--start-concurrency', '6'
]

/** Namespaces and links named with the test's prefix. */
function networkLeft (): string[] {
  const lines = (args: string[]): string[] => {
    try {
      return execFileSync('ip', args, { encoding: 'utf8' }).split('\n')
    } catch {
      return []
    }
  }
  return [...lines(['netns', 'list']), ...lines(['-o', 'link', 'show'])].filter(l => /\bkimtt/.test(l))
}

function alive (pid: number, runDirectory: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(runDirectory)
  } catch {
    return false
  }
}

test('a 6-node testnet under kill, pause, partition and restart keeps one chain, every acknowledged message once, and recovers', async t => {
  const lines: string[] = []
  const testnet = new Testnet(parseOptions(FLAGS), line => { lines.push(line); t.log(line) })
  t.teardown(() => { testnet.cleanupSync() })
  const result = await runGuarded(testnet, async () => await testnet.run())
  for (const line of result.lines) t.log(line)
  t.log(`mode: ${result.mode} (${lines[0]})`)

  for (const invariant of result.invariants) t.true(invariant.ok, `${invariant.name}: ${invariant.detail}`)
  const faults = result.summary.faults as Array<{ kind: string, skipped?: string }>
  const ran = faults.filter(f => f.skipped === undefined).map(f => f.kind).sort()
  t.deepEqual(ran, result.mode === 'netns' ? ['kill', 'partition', 'pause', 'restart'] : ['kill', 'pause', 'restart'])
  t.true((result.summary.messages as { acked: number }).acked > 0, 'the load was acknowledged')

  const made = testnet.made()
  t.true(made.runDirectory !== undefined && !existsSync(made.runDirectory), 'the run directory is removed')
  t.deepEqual(made.pids.filter(pid => alive(pid, made.runDirectory ?? '')), [], 'no node process is left')
  t.deepEqual(networkLeft(), [], 'no namespace or link is left')
})
