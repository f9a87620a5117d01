// The machine's limit, measured in the run that is compared with it: Ed25519 verifications per
// second with one verifier per core running at once (worker threads, all started together),
// for node:crypto (cached KeyObject) and for libsodium (crypto_sign_verify_detached, what the
// node verifies with). The limit is the faster of the two.
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { CpuMeter } from './common.js'
import type { Verifier, VerifyCount, VerifyWorkerData } from './verify-worker.js'

export interface VerifyRate {
  verifier: Verifier
  threads: number
  /** Verifications per second of wall time, all threads together. */
  perSecond: number
  /**
   * Verifications per CPU second the verifiers got (this process's CPU over the window: its
   * main thread only waits): what a core does when other processes take part of it.
   */
  perCpuSecond: number
  /** % of the machine's CPU that other processes used meanwhile. */
  foreignCpuPct: number | undefined
}

/** Both verifiers, measured one after the other; the faster is the limit. */
export interface MachineLimit {
  nodeCrypto: VerifyRate
  sodium: VerifyRate
  fastest: VerifyRate
  /** The faster verifier's rate with every core to itself, estimated from the CPU it got (for sizing the load, never for a ratio). */
  unloadedPerSecond: number
}

export async function measureLimit (seconds: number): Promise<MachineLimit> {
  const nodeCrypto = await measureVerifyRate('node', seconds)
  const sodium = await measureVerifyRate('sodium', seconds)
  const fastest = nodeCrypto.perSecond > sodium.perSecond ? nodeCrypto : sodium
  return { nodeCrypto, sodium, fastest, unloadedPerSecond: Math.max(fastest.perSecond, fastest.perCpuSecond * fastest.threads) }
}

export async function measureVerifyRate (verifier: Verifier, seconds: number, threads = availableParallelism()): Promise<VerifyRate> {
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: { verifier, seconds } satisfies VerifyWorkerData }))
  try {
    const exited = (worker: Worker): Promise<never> => new Promise((_resolve, reject) => {
      worker.once('error', reject)
      worker.once('exit', code => { reject(new Error(`a ${verifier} verifier exited with ${code}`)) })
    })
    const next = async (worker: Worker): Promise<unknown> => await Promise.race([new Promise(resolve => worker.once('message', resolve)), exited(worker)])
    await Promise.all(workers.map(next))
    const meter = new CpuMeter(new Map())
    const counts = workers.map(next)
    for (const worker of workers) worker.postMessage('go')
    const done = await Promise.all(counts) as VerifyCount[]
    const cpu = meter.read()
    const perSecond = done.reduce((sum, c) => sum + c.verified / c.seconds, 0)
    const verified = done.reduce((sum, c) => sum + c.verified, 0)
    return { verifier, threads, perSecond, perCpuSecond: verified / (cpu.ownPct / 100 * cpu.seconds), foreignCpuPct: cpu.foreignPct }
  } finally {
    await Promise.all(workers.map(async worker => await worker.terminate()))
  }
}
