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
  /** Verifications per second, all threads together. */
  perSecond: number
  /** % of the machine's CPU that other processes used meanwhile. */
  foreignCpuPct: number | undefined
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
    const perSecond = done.reduce((sum, c) => sum + c.verified / c.seconds, 0)
    return { verifier, threads, perSecond, foreignCpuPct: meter.read().foreignPct }
  } finally {
    await Promise.all(workers.map(async worker => await worker.terminate()))
  }
}
