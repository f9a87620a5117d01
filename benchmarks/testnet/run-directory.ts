// The run's directory, `<tmpdir>/<prefix>-XXXXXX`: one data directory and one log file per node,
// `runner.pid` (whose run this is) and `nodes.pids` (every node process it started). A later
// run with the same prefix finds a crashed run's directory by them, kills the nodes it left
// (only processes whose command line names that directory) and removes it. A kept directory
// (--keep) drops `runner.pid`, so it stays.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const RUNNER_PID = 'runner.pid'
const NODE_PIDS = 'nodes.pids'

function commandLine (pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ')
  } catch {
    return undefined
  }
}

export class RunDirectory {
  readonly path: string

  constructor (prefix: string) {
    this.path = mkdtempSync(join(tmpdir(), `${prefix}-`))
    appendFileSync(join(this.path, RUNNER_PID), `${process.pid}\n`)
  }

  nodeDir (i: number): string {
    const dir = join(this.path, `n${i}`)
    mkdirSync(dir, { recursive: true })
    return dir
  }

  logFile (i: number): string {
    return join(this.path, `n${i}.log`)
  }

  recordPid (pid: number): void {
    appendFileSync(join(this.path, NODE_PIDS), `${pid}\n`)
  }

  /** Removes the directory, or (keep) leaves it without its runner.pid. */
  removeSync (keep: boolean): void {
    if (keep) rmSync(join(this.path, RUNNER_PID), { force: true })
    else rmSync(this.path, { recursive: true, force: true })
  }
}

/**
 * Directories of earlier runs with this prefix: throws when one belongs to a run still going
 * (its runner alive); otherwise kills the nodes it left and removes it. Returns what it removed.
 */
export function removeLeftoverRuns (prefix: string): string[] {
  const removed: string[] = []
  const base = tmpdir()
  for (const name of readdirSync(base)) {
    if (!name.startsWith(`${prefix}-`)) continue
    const dir = join(base, name)
    const runnerFile = join(dir, RUNNER_PID)
    if (!existsSync(runnerFile)) continue
    const runner = Number(readFileSync(runnerFile, 'latin1').trim())
    if (runner !== process.pid && commandLine(runner)?.includes('testnet') === true) {
      throw new Error(`another testnet run (pid ${runner}) uses the prefix ${prefix} (${dir}); wait for it or pass --prefix and --subnet of your own`)
    }
    const pidsFile = join(dir, NODE_PIDS)
    let killed = 0
    const pids = existsSync(pidsFile) ? readFileSync(pidsFile, 'latin1').split('\n').filter(Boolean).map(Number) : []
    for (const pid of pids) {
      if (commandLine(pid)?.includes(dir) !== true) continue
      try {
        process.kill(pid, 'SIGKILL')
        killed++
      } catch {
        // Gone meanwhile.
      }
    }
    rmSync(dir, { recursive: true, force: true })
    removed.push(`run directory ${dir}${killed > 0 ? ` (${killed} node processes killed)` : ''}`)
  }
  return removed
}
