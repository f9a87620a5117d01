// A failing log destination never stops or wedges the node (issue 9, a full disk): with its
// stdout a pipe nobody reads, or a file on a full disk, the node keeps producing blocks and
// answering its API, and a graceful stop still exits.
import '../../../src/shared/polyfill.js'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { MAIN, tempDir } from '../../helpers/node-process.js'
import { claimPort } from '../../helpers/test-ports.js'
import { waitFor } from '../../helpers/wait.js'

/** Starts a debug-logging leader whose stdout is `stdout`; killed (its group) at teardown. */
async function startLeader (t: ExecutionContext, stdout: 'pipe' | number): Promise<{ proc: ChildProcess, api: string }> {
  // This test cannot read the node's log to learn its port: it names one.
  const port = await claimPort()
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KIMURA_')))
  const proc = spawn(process.execPath, [MAIN, '--leader', '--db', tempDir(t), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', `127.0.0.1:${port}`, '--block-interval-ms', '50', '--log-level', 'debug', '--log-format', 'json'],
    { stdio: ['ignore', stdout, 'ignore'], env, detached: true })
  t.teardown(() => {
    try {
      if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  })
  return { proc, api: `http://127.0.0.1:${port}` }
}

async function heightOf (api: string): Promise<number> {
  const res = await fetch(`${api}/v1/status`, { signal: AbortSignal.timeout(2_000) })
  return ((await res.json()) as { height: number }).height
}

test('with stdout a pipe that is never read, the node keeps producing and answering', async t => {
  const { proc, api } = await startLeader(t, 'pipe')
  // Nobody reads proc.stdout: the pipe's buffer (64 KiB) fills within the first second of debug lines.
  proc.stdout?.pause()
  await waitFor(async () => await heightOf(api).then(h => h >= 5, () => false), 20_000, 'the API to answer')
  const first = await heightOf(api)
  await new Promise(resolve => setTimeout(resolve, 3_000))
  const later = await heightOf(api)
  t.log(`height ${first} then ${later} 3 s later, with stdout blocked`)
  t.true(later >= first + 20, 'block production went on')
  t.is(proc.exitCode, null)
})

test('with stdout a file on a full disk, the node keeps producing and answering', async t => {
  const mount = tempDir(t, 'kimura-fulllog-')
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]).status === 0
  if (!mounted) {
    t.log(`skipped: cannot mount a tmpfs here (not root, or no mount); this checks logging to a full disk`)
    t.pass()
    return
  }
  t.teardown(() => { spawnSync('umount', ['-l', mount]); rmSync(mount, { recursive: true, force: true }) })
  mkdirSync(join(mount, 'logs'))
  // Fill the disk but for a few KiB.
  try {
    writeFileSync(join(mount, 'filler'), Buffer.alloc(1024 * 1024))
  } catch {
    // ENOSPC: the disk is full, as wanted.
  }
  const fd = openSync(join(mount, 'logs', 'node.log'), 'w')
  t.teardown(() => { closeSync(fd) })
  const { proc, api } = await startLeader(t, fd)
  await waitFor(async () => await heightOf(api).then(h => h >= 5, () => false), 20_000, 'the API to answer')
  const first = await heightOf(api)
  await new Promise(resolve => setTimeout(resolve, 3_000))
  const later = await heightOf(api)
  t.log(`height ${first} then ${later} 3 s later, with every log write failing (ENOSPC)`)
  t.true(later >= first + 20, 'block production went on')
  t.is(proc.exitCode, null)
  // And it still stops gracefully: flushing the logs at exit must not wait on the full disk.
  const exited = new Promise<number | null>(resolve => proc.once('exit', code => { resolve(code) }))
  proc.kill('SIGTERM')
  t.is(await Promise.race([exited, new Promise<string>(resolve => setTimeout(() => { resolve('still running after 10 s') }, 10_000))]), 0)
})
