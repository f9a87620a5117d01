// Who knows whom. Node 0 is the leader. Every node names 2 or 3 others; a peer that names the
// leader gets it as --leader-addr, the others only --peers, so some peers must reach the chain
// through other peers. A random spanning tree (each node in a shuffled order links to one node
// before it) keeps the graph connected; extra random links make the 2 or 3.
import { Rng } from './rng.js'

export interface Topology {
  /** known[i]: the nodes node i dials (its --leader-addr and --peers together). */
  known: number[][]
  /** hops[i]: the fewest links between node i and the leader, links used both ways. */
  hops: number[]
}

/** How many seeds after the given one to try for a topology in which some peer does not know the leader. */
const MAX_DRAWS = 1000

export function buildTopology (nodes: number, seed: number): Topology {
  if (nodes < 1) throw new Error('a testnet needs at least one node')
  let fallback: Topology | undefined
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const topology = drawTopology(nodes, new Rng(seed + draw * 0x9e3779b1))
    fallback ??= topology
    // With 4 nodes or more, at least one peer must be two hops or more from the leader.
    if (nodes < 4 || topology.hops.some(h => h >= 2)) return topology
  }
  return fallback as Topology
}

function drawTopology (nodes: number, rng: Rng): Topology {
  const known = Array.from({ length: nodes }, () => new Set<number>())
  const order = [0, ...rng.shuffle(Array.from({ length: nodes - 1 }, (_, i) => i + 1))]
  for (let k = 1; k < nodes; k++) known[order[k]].add(order[rng.int(0, k - 1)])
  const most = Math.min(3, nodes - 1)
  for (let i = 0; i < nodes; i++) {
    const want = Math.min(most, rng.int(2, 3))
    while (known[i].size < want) {
      const other = rng.int(0, nodes - 1)
      if (other !== i) known[i].add(other)
    }
  }
  const lists = known.map(set => [...set].sort((a, b) => a - b))
  return { known: lists, hops: hopsFromLeader(lists) }
}

/** Breadth-first distances from node 0 over the links taken both ways; -1 when unreachable. */
export function hopsFromLeader (known: readonly number[][]): number[] {
  const links = known.map(() => new Set<number>())
  known.forEach((list, i) => { for (const j of list) { links[i].add(j); links[j].add(i) } })
  const hops = known.map(() => -1)
  hops[0] = 0
  const queue = [0]
  for (let q = 0; q < queue.length; q++) {
    for (const next of links[queue[q]]) {
      if (hops[next] === -1) { hops[next] = hops[queue[q]] + 1; queue.push(next) }
    }
  }
  return hops
}
