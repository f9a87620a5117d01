// Where the nodes live. Namespaces (root, and `ip netns add` works): one network namespace per
// node with a veth pair on one bridge, inside 10.<subnet>.0.0/16; the host side of the bridge is
// 10.<subnet>.0.1, so the runner reaches every API. Loopback otherwise: 127.<subnet>.0.x.
// Either way node i has its own address, so every node uses the same fixed ports.
//
// Every name starts with the prefix (`<prefix>br`, `<prefix>v<i>`, `<prefix>-n<i>`), so that
// a crashed run's leftovers are found and removed at the next start.
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import type { ModeChoice } from './options.js'

const execFileAsync = promisify(execFile)

export const P2P_PORT = 7000
export const API_PORT = 8080

export interface HostNetwork {
  readonly mode: 'netns' | 'loopback'
  /** For the first output line: the mode, and why when it is loopback. */
  readonly description: string
  /** Node i's IPv4 address. */
  address: (i: number) => string
  /** Creates what node 0 .. nodes - 1 need. */
  create: (nodes: number) => void
  /** The command that runs `argv` in node i's namespace (argv itself on loopback). */
  wrap: (i: number, argv: string[]) => string[]
  /** Takes node i's link down or up; undefined on loopback (no partitions there). */
  setLink?: (i: number, up: boolean) => Promise<void>
  /** Removes everything it created (synchronous: it also runs in exit handlers). */
  removeSync: () => void
}

function ip (args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 })
}

/** `ip` that may fail: the error's first line, or undefined. */
function tryIp (args: string[]): string | undefined {
  try {
    ip(args)
    return undefined
  } catch (err) {
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr) : ''
    return (stderr.trim() || (err instanceof Error ? err.message : String(err))).split('\n')[0]
  }
}

/** `ip`'s output, or undefined when it fails. */
function tryIpOutput (args: string[]): string | undefined {
  try {
    return ip(args)
  } catch {
    return undefined
  }
}

function addressIn (first: number, second: number, i: number): string {
  const host = i + 2
  return `${first}.${second}.${host >> 8}.${host & 255}`
}

/** Why namespaces cannot be used here, or undefined when they can. */
function namespaceProblem (prefix: string): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`
  if (process.getuid?.() !== 0) return 'not running as root'
  const probe = `${prefix}-probe`
  tryIp(['netns', 'del', probe])
  const failed = tryIp(['netns', 'add', probe])
  if (failed !== undefined) return `ip netns add failed: ${failed}`
  tryIp(['netns', 'del', probe])
  return undefined
}

/** Namespaces and links left by an earlier run with this prefix, and the processes inside them. */
export function removeLeftoverLinks (prefix: string): string[] {
  if (process.platform !== 'linux') return []
  const removed: string[] = []
  let namespaces: string[]
  try {
    namespaces = ip(['netns', 'list']).split('\n').map(line => line.split(' ')[0]).filter(name => name.startsWith(`${prefix}-`))
  } catch {
    return removed
  }
  for (const ns of namespaces) {
    // Processes in our own namespace are an earlier run's nodes.
    const pids = (tryIpOutput(['netns', 'pids', ns]) ?? '').split('\n').filter(Boolean).map(Number)
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Gone meanwhile.
      }
    }
    if (tryIp(['netns', 'del', ns]) === undefined) removed.push(`namespace ${ns}${pids.length > 0 ? ` (${pids.length} processes killed)` : ''}`)
  }
  const links = (tryIpOutput(['-o', 'link', 'show']) ?? '').split('\n').map(line => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '')
    .filter(name => new RegExp(`^${prefix}(br|v\\d+)$`).test(name))
  for (const link of links) if (tryIp(['link', 'del', link]) === undefined) removed.push(`link ${link}`)
  return removed
}

class NamespaceNetwork implements HostNetwork {
  readonly mode = 'netns' as const
  readonly description: string
  private readonly bridge: string
  private readonly namespaces: string[] = []
  private bridgeMade = false

  constructor (private readonly prefix: string, private readonly subnet: number) {
    this.bridge = `${prefix}br`
    this.description = `network namespaces: one per node on bridge ${this.bridge}, 10.${subnet}.0.0/16 (host 10.${subnet}.0.1)`
  }

  address (i: number): string {
    return addressIn(10, this.subnet, i)
  }

  private ns (i: number): string {
    return `${this.prefix}-n${i}`
  }

  private veth (i: number): string {
    return `${this.prefix}v${i}`
  }

  create (nodes: number): void {
    ip(['link', 'add', this.bridge, 'type', 'bridge'])
    this.bridgeMade = true
    ip(['addr', 'add', `10.${this.subnet}.0.1/16`, 'dev', this.bridge])
    ip(['link', 'set', this.bridge, 'up'])
    for (let i = 0; i < nodes; i++) {
      const ns = this.ns(i)
      ip(['netns', 'add', ns])
      this.namespaces.push(ns)
      ip(['link', 'add', this.veth(i), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
      ip(['link', 'set', this.veth(i), 'master', this.bridge, 'up'])
      ip(['-n', ns, 'addr', 'add', `${this.address(i)}/16`, 'dev', 'eth0'])
      ip(['-n', ns, 'link', 'set', 'eth0', 'up'])
      ip(['-n', ns, 'link', 'set', 'lo', 'up'])
    }
  }

  wrap (i: number, argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.ns(i), ...argv]
  }

  /** Asynchronous: on a saturated machine `ip` can take seconds, and the runner must keep its schedule meanwhile. */
  async setLink (i: number, up: boolean): Promise<void> {
    await execFileAsync('ip', ['link', 'set', this.veth(i), up ? 'up' : 'down'], { timeout: 30_000 })
  }

  removeSync (): void {
    // The host end goes first, taking the pair with it: a deleted namespace is destroyed only
    // once the last process in it is gone, and its veth lingered after the kernel's cleanup.
    this.namespaces.splice(0).forEach((ns, i) => {
      tryIp(['link', 'del', this.veth(i)])
      tryIp(['netns', 'del', ns])
    })
    if (this.bridgeMade) { tryIp(['link', 'del', this.bridge]); this.bridgeMade = false }
  }
}

class LoopbackNetwork implements HostNetwork {
  readonly mode = 'loopback' as const
  constructor (private readonly subnet: number, readonly description: string) {}
  address (i: number): string {
    return addressIn(127, this.subnet, i)
  }

  create (): void {}
  wrap (_i: number, argv: string[]): string[] {
    return argv
  }

  removeSync (): void {}
}

/** Namespaces when asked for or available, else loopback (with the reason in its description). */
export function chooseHostNetwork (mode: ModeChoice, prefix: string, subnet: number): HostNetwork {
  if (mode === 'loopback') return new LoopbackNetwork(subnet, `loopback 127.${subnet}.0.0/16 (--mode loopback)`)
  const problem = namespaceProblem(prefix)
  if (problem === undefined) return new NamespaceNetwork(prefix, subnet)
  if (mode === 'netns') throw new Error(`--mode netns: network namespaces are not available: ${problem}`)
  return new LoopbackNetwork(subnet, `loopback 127.${subnet}.0.0/16 (no network namespaces: ${problem}); partitions are skipped`)
}
