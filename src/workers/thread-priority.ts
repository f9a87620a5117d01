// --worker-nice: worker threads at a lower scheduling priority than the main thread, which owns
// the sockets and the block timer. A node's work is verification and imports in the pool; when
// they saturate the cores, the main thread still gets the CPU as soon as it has work, so gossip,
// sync answers and the timers do not wait behind a batch of signature checks. Idle cores are
// used all the same: a nice value only orders the threads that want the CPU. (bench:e2e, leader
// and 2 peers on 2 cores: the leader's event-loop p99 at saturation went from 151–156 ms to
// 54–76 ms with the pool and the producer at nice 10.) Off by default: the workers then also
// yield to every other busy process of their scheduling group (config.ts says why).
import { getPriority, setPriority } from 'node:os'

/**
 * Lowers the calling thread's priority to `nice` (0 to 19); never raises it. Linux only: there
 * a nice value belongs to one thread, while elsewhere it would lower the whole process.
 * Returns what was done, for the main thread to log.
 */
export function lowerThreadPriority (nice: number): string {
  if (nice <= 0) return 'unchanged (nice 0)'
  if (process.platform !== 'linux') return `unchanged: per-thread priorities need Linux, not ${process.platform}`
  try {
    // pid 0: the calling thread (Linux keeps a nice value per thread).
    const current = getPriority(0)
    if (current >= nice) return `unchanged: already at nice ${current}`
    setPriority(0, nice)
    return `nice ${nice}`
  } catch (err) {
    return `unchanged: ${err instanceof Error ? err.message : String(err)}`
  }
}
