// Ports for test nodes that stay theirs across a restart.
//
// A node that binds port 0 gets a port from the kernel's ephemeral range, the range every
// outgoing connection on the machine also takes its local port from. Once the node stops, any
// process's next connection may take that port (and hold it in TIME_WAIT for a minute), so the
// restart that asks for it again fails with EADDRINUSE. A CI run met this once, a peer restarted
// mid-test. So test nodes use ports below the ephemeral range, which no connection and no bind
// of port 0 is ever given, and each is reserved by a file named after it, so that the test files
// ava runs side by side (one process each) never pick the same one.
import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, unlinkSync, writeSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const RESERVATIONS = join(tmpdir(), 'kimura-test-ports')
/** The lowest port handed out: above the registered ports most services use. */
const LOWEST = 20_000
const claimed = new Set<number>()
let exitHookInstalled = false

/** The kernel's ephemeral range, from procfs; Linux's default where there is none. */
function ephemeralRange (): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    if (Number.isInteger(low) && Number.isInteger(high)) return [low, high]
  } catch {
    // Not Linux: its default range.
  }
  return [32_768, 60_999]
}

/** The ports to pick from: below the ephemeral range, or above it when too little is left below. */
function candidateRange (): [number, number] {
  const [low, high] = ephemeralRange()
  if (low - LOWEST >= 2000) return [LOWEST, low - 1]
  return [high + 1, 65_535]
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the reservation file of `port`, or of a dead process that held it; false if a live one has it. */
function reserve (port: number): boolean {
  const file = join(RESERVATIONS, String(port))
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = Number(readFileSync(file, 'utf8').trim())
      // An empty file is one being written this moment: taken.
      if (holder === 0 || isAlive(holder)) return false
      try { unlinkSync(file) } catch { /* Another process reclaimed it first. */ }
    }
  }
  return false
}

function unreserve (port: number): void {
  if (!claimed.delete(port)) return
  try { unlinkSync(join(RESERVATIONS, String(port))) } catch { /* Already gone. */ }
}

function releaseAll (): void {
  for (const port of [...claimed]) unreserve(port)
  try { rmdirSync(RESERVATIONS) } catch { /* Another process still holds some. */ }
}

/** True if 127.0.0.1:port can be listened on now. */
async function canListen (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const server = createServer()
    server.once('error', () => { resolve(false) })
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve(true) }) })
  })
}

/**
 * A free port on 127.0.0.1 outside the ephemeral range, reserved for this process until
 * `releasePort` or its exit.
 */
export async function claimPort (): Promise<number> {
  mkdirSync(RESERVATIONS, { recursive: true })
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.on('exit', releaseAll)
  }
  const [low, high] = candidateRange()
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1))
    if (claimed.has(port) || !reserve(port)) continue
    claimed.add(port)
    if (await canListen(port)) return port
    unreserve(port)
  }
  throw new Error(`no free port in ${low}-${high} after 200 tries`)
}

export function releasePort (port: number): void {
  unreserve(port)
}
