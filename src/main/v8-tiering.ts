// When V8 optimises a node's functions. Node 20's V8 (11.3) sends a function to TurboFan once
// it has run about --interrupt-budget (67,584) bytes of bytecode since it was last checked,
// and every isolate compiles its own: a node has three or four (the main thread, the pool's
// workers, the leader's producer). Nodes that start together on shared cores (a testnet, a
// restart under load) spend much of their first half minute compiling: 25 % of all the
// nodes' CPU in a 20-node testnet's first 23 s of load (benchmarks/README.md, "V8's tiering").
// At four times the budget, functions that are only warm stay in Sparkplug's baseline code
// and the hot ones still compile within the first second of load: that testnet's propagation
// p99 went from 3.9 s to 0.9-1.1 s and a peer's CPU per stored message down by a tenth, while
// a leader alone at saturation spent the same CPU per message (eight times cost it 12-15 %).
// Later V8s (Node 22 and 24) tier up through Maglev first, and Node 24's has no such flag:
// nothing is set there. An operator's own `node --interrupt-budget=N` is left as it is.
import { setFlagsFromString } from 'node:v8'

/** V8 11's default --interrupt-budget. */
const V8_11_INTERRUPT_BUDGET = 67_584

/** The V8 flags this node sets for its V8 version and node's own command line (none when the operator chose). */
export function tieringFlags (v8Version: string, execArgv: readonly string[]): string[] {
  if (!v8Version.startsWith('11.')) return []
  if (execArgv.some(arg => /^--interrupt[-_]budget(=|$)/.test(arg))) return []
  return [`--interrupt-budget=${4 * V8_11_INTERRUPT_BUDGET}`]
}

/** Sets this process's tiering flags, before the node's code runs and its workers start; returns them. */
export function tuneV8Tiering (): string[] {
  const flags = tieringFlags(process.versions.v8, process.execArgv)
  for (const flag of flags) setFlagsFromString(flag)
  return flags
}
