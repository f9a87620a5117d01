// The command line as users run it (issue #5, SPEC section 7): --help, a peer's required
// options, and `kimura submit --wait` end to end against a running leader.
import '../../../src/shared/polyfill.js'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { getPriority } from 'node:os'
import { join, resolve } from 'node:path'
import test from 'ava'
import { getMessage, readChain } from '../../helpers/api-client.js'
import { createNodeProcess, MAIN, startLeader, tempDir } from '../../helpers/node-process.js'
import { threadNices } from '../../helpers/thread-nice.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

/** Runs `node dist/main.js ...args` to its exit (killed after `timeoutMs`). */
async function runMain (args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number } = {}): Promise<Run> {
  const started = performance.now()
  return await new Promise(resolve => {
    // KIMURA_* from the environment running the tests must not change what is tested.
    const env = Object.fromEntries(Object.entries(options.env ?? process.env).filter(([k]) => !k.startsWith('KIMURA_')))
    execFile(process.execPath, [MAIN, ...args], { cwd: options.cwd, env, timeout: options.timeoutMs ?? 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null
      resolve({ code, stdout, stderr, ms: performance.now() - started })
    })
  })
}

/** SPEC section 7's options, each with its environment variable. */
const SPEC_OPTIONS: Array<[string, string]> = [
  ['--leader', 'KIMURA_LEADER'],
  ['--db', 'KIMURA_DB'],
  ['--listen', 'KIMURA_LISTEN'],
  ['--api', 'KIMURA_API'],
  ['--key', 'KIMURA_KEY'],
  ['--leader-addr', 'KIMURA_LEADER_ADDR'],
  ['--leader-key', 'KIMURA_LEADER_KEY'],
  ['--block-interval-ms', 'KIMURA_BLOCK_INTERVAL_MS'],
  ['--log-level', 'KIMURA_LOG_LEVEL']
]

test.serial('--help lists every option of SPEC section 7 with its environment variable, and exits 0', async t => {
  const cwd = tempDir(t)
  const run = await runMain(['--help'], { cwd })
  t.is(run.code, 0, run.stderr)
  // Help wraps at the terminal width: compare on the text with line breaks folded.
  const text = run.stdout.replace(/\s+/g, ' ')
  for (const [option, env] of SPEC_OPTIONS) {
    t.true(new RegExp(`(^|\\s)${option}(\\s|=|<|$)`).test(text), `--help does not list ${option}`)
    t.true(text.includes(env), `--help does not name ${env}`)
  }
  t.false(existsSync(join(cwd, 'kimura-data')), '--help created a data directory')
})

test.serial('a peer without --leader-addr exits non-zero and says what is missing', async t => {
  const cwd = tempDir(t)
  const run = await runMain(['--db', join(cwd, 'db'), '--api', 'off', '--listen', '/ip4/127.0.0.1/tcp/0',
    '--leader-key', 'ab'.repeat(32)], { cwd, timeoutMs: 10_000 })
  t.log(`exit ${run.code} after ${Math.round(run.ms)} ms: ${run.stderr.trim()}`)
  t.not(run.code, 0)
  t.not(run.code, null, 'the peer kept running without a leader address')
  t.regex(run.stderr, /--leader-addr/)
  t.false(existsSync(join(cwd, 'db')), 'a misconfigured peer created its data directory')
})

test.serial('--event-loop-resolution-ms out of range exits non-zero before the node starts', async t => {
  const cwd = tempDir(t)
  const run = await runMain(['--leader', '--db', join(cwd, 'db'), '--api', 'off', '--listen', '/ip4/127.0.0.1/tcp/0',
    '--event-loop-resolution-ms', '0'], { cwd, timeoutMs: 10_000 })
  t.not(run.code, 0)
  t.not(run.code, null, 'the leader kept running with a resolution of 0 ms')
  t.regex(run.stderr, /--event-loop-resolution-ms must be an integer from 1 to 60000/)
  t.false(existsSync(join(cwd, 'db')), 'a misconfigured leader created its data directory')
})

;(process.platform === 'linux' && getPriority() < 10 ? test.serial : test.serial.skip)('a leader with --worker-nice 10 runs its pool workers and its producer at nice 10, below its main thread; by default they stay as it; 20 is refused', async t => {
  const leader = await startLeader(t, { blockIntervalMs: 300, logLevel: 'info', extraArgs: ['--threads', '2', '--worker-nice', '10'] })
  const pid = leader.pid ?? t.fail('the leader is not running')
  const nices = threadNices(pid)
  const all = [...nices.values()]
  t.is(all.filter(n => n === 10).length, 3, `thread nice values: ${all.join(' ')}`)
  // The main thread (its thread id is the pid) keeps the priority it was started with.
  t.is(nices.get(pid), getPriority())
  t.regex(leader.output, /"priority":"nice 10"[^\n]*worker pool started/)
  t.regex(leader.output, /"priority":"nice 10"[^\n]*producer worker started/)

  const plain = await startLeader(t, { blockIntervalMs: 300, logLevel: 'info', name: 'plain', extraArgs: ['--threads', '2'] })
  const plainNices = [...threadNices(plain.pid ?? t.fail('the default leader is not running')).values()]
  t.true(plainNices.every(n => n === getPriority()), `thread nice values: ${plainNices.join(' ')}`)
  t.regex(plain.output, /"priority":"unchanged \(nice 0\)"[^\n]*worker pool started/)

  const cwd = tempDir(t)
  const run = await runMain(['--leader', '--db', join(cwd, 'db'), '--api', 'off', '--listen', '/ip4/127.0.0.1/tcp/0', '--worker-nice', '20'], { cwd, timeoutMs: 10_000 })
  t.not(run.code, 0)
  t.regex(run.stderr, /--worker-nice must be an integer from 0 to 19/)
})

test.serial('`submit --wait` signs, submits and follows a message into a block', async t => {
  const leader = await startLeader(t, { blockIntervalMs: 300, logLevel: 'info' })
  const dir = tempDir(t)
  const keyFile = join(dir, 'sender.key')
  const run = await runMain(['submit', '--api', `127.0.0.1:${leader.apiPort}`, '--key', keyFile, '--wait', 'hello'], { cwd: dir, timeoutMs: 30_000 })
  t.log(`submit --wait exited ${run.code} after ${Math.round(run.ms)} ms: ${run.stdout.trim().replace(/\n/g, ' | ')}`)
  t.is(run.code, 0, run.stderr)
  const included = /^([0-9a-f]{64})\s+included in block (\d+)$/m.exec(run.stdout)
  t.truthy(included, `no "included in block" line in: ${run.stdout}`)
  t.true(existsSync(keyFile), 'the sender key file was not created')
  if (included !== null) {
    const found = await getMessage(leader, included[1])
    t.is(found?.height, Number(included[2]))
    t.is(found?.message.content, Buffer.from('hello').toString('hex'))
  }

  // The same key again: a second submission is a distinct message.
  const second = await runMain(['submit', '--api', `127.0.0.1:${leader.apiPort}`, '--key', keyFile, 'hello'], { cwd: dir })
  t.is(second.code, 0, second.stderr)
  t.not(/^([0-9a-f]{64})/m.exec(second.stdout)?.[1], included?.[1], 'the same text twice gave the same message id')
})

test.serial('a leader and a peer configured only through KIMURA_* variables run as with flags', async t => {
  const leader = createNodeProcess(t, { leader: true, blockIntervalMs: 250, viaEnv: true, logLevel: 'info' })
  t.deepEqual(leader.args().slice(1), [], 'the leader got command-line flags')
  await leader.start()
  const status = await leader.status()
  t.is(status.role, 'leader')
  // KIMURA_LISTEN and KIMURA_API ask for port 0: the node is on the ports it reported, not on
  // the defaults (7000 and 8080) it would use without them.
  t.true(status.listen[0]?.startsWith(`${leader.listenAddr}/p2p/`), `KIMURA_LISTEN ignored: ${status.listen.join(', ')}`)
  t.not(leader.p2pPort, 7000, 'KIMURA_LISTEN ignored: the default port')
  t.not(leader.apiPort, 8080, 'KIMURA_API ignored: the default port')
  const peer = createNodeProcess(t, {
    leader: false, blockIntervalMs: 250, viaEnv: true, logLevel: 'info', name: 'peer', leaderAddr: status.listen[0], leaderKey: status.leaderKey
  })
  await peer.start()
  await peer.waitForHeight(6, 15_000)
  const peerStatus = await peer.status()
  t.is(peerStatus.role, 'peer')
  t.is(peerStatus.leaderKey, status.leaderKey)
  // KIMURA_BLOCK_INTERVAL_MS: blocks 250 ms apart on average, not 5 s. (Single gaps jitter with
  // the host's load; the schedule itself is schedule.test.ts's subject.)
  const blocks = await readChain(leader, 6)
  const gaps = blocks.slice(1).map((b, i) => b.header.timestamp - blocks[i].header.timestamp)
  const mean = (blocks[5].header.timestamp - blocks[0].header.timestamp) / 5
  t.log(`block gaps with KIMURA_BLOCK_INTERVAL_MS=250: ${gaps.join(', ')} ms, mean ${mean} ms`)
  t.true(mean > 125 && mean < 1000, `mean block gap ${mean} ms`)
  t.true(leader.output.includes(leader.spec.dataDir), 'KIMURA_DB ignored')
})

test.serial('the peer command the leader prints at start works', async t => {
  const leader = await startLeader(t, { blockIntervalMs: 250, logLevel: 'info' })
  const status = await leader.status()
  t.regex(leader.output, new RegExp(status.leaderKey), 'the banner does not show the public key')
  t.true(leader.output.includes(status.listen[0]), 'the banner does not show the multiaddr')
  const line = /^\s*node (\S+) (--db .*--leader-key \S+)\s*$/m.exec(leader.output)
  if (line === null) return t.fail(`no peer command in the leader's output:\n${leader.output.slice(0, 2000)}`)
  t.log(`printed: node ${line[1]} ${line[2]}`)
  // As printed, except the data directory and the ports (0: the node picks free ones and
  // reports them), which must not collide with anything on this host.
  const args = line[2].split(/\s+/)
  const set = (flag: string, value: string): void => { const i = args.indexOf(flag); t.true(i >= 0, `the printed command has no ${flag}`); args[i + 1] = value }
  const dir = tempDir(t)
  set('--db', join(dir, 'peer-data'))
  set('--listen', '/ip4/127.0.0.1/tcp/0')
  set('--api', '127.0.0.1:0')
  // Run from the directory the leader printed its script path relative to.
  t.is(resolve(line[1]), MAIN)
  const peer = createNodeProcess(t, { leader: false, blockIntervalMs: 250, name: 'printed-peer', dataDir: dir, commandLine: [line[1], ...args] })
  await peer.start()
  await peer.waitForHeight(3, 15_000)
  const peerStatus = await peer.status()
  t.is(peerStatus.role, 'peer')
  t.is(peerStatus.leaderKey, status.leaderKey)
})
