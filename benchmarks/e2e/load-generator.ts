// The load generator: a child process of the benchmark (forked by load-client.ts) that signs
// batches in worker threads before any clock starts, keeps their request bodies, and submits
// them to a node's POST /v1/messages when told to (load-protocol.ts). Its own CPU and its main
// thread's event-loop utilisation come back with every run, to show it was not the bottleneck.
import '../../src/shared/polyfill.js'
import { Agent, request } from 'node:http'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { toHex } from '../../src/shared/bytes.js'
import { BATCH_MESSAGES, nowMs, sleep } from './common.js'
import type { DropCommand, GeneratorCommand, GeneratorReply, RunCommand, RunReply, SignCommand } from './load-protocol.js'
import { CONTENT_TYPE, type SignedBatch, type SubmissionPath } from './messages.js'
import type { SignOutput, SignTask } from './sign-worker.js'

/** Pause before a batch refused with 503 is sent again (closed mode). */
const REFUSED_BACKOFF_MS = 5
/** Examples of failures kept for the report. */
const MAX_PROBLEMS = 5

const batches = new Map<number, SignedBatch>()
const workers = Array.from({ length: availableParallelism() }, () => new Worker(new URL('./sign-worker.js', import.meta.url)))
for (const worker of workers) worker.unref()

function reply (message: GeneratorReply): void {
  process.send?.(message)
}

async function signRange (worker: Worker, task: SignTask): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onMessage = (out: SignOutput): void => {
      if ('done' in out) {
        worker.off('message', onMessage)
        worker.off('error', reject)
        resolve()
        return
      }
      for (const b of out.batches) batches.set(b.batch, b)
    }
    worker.on('message', onMessage)
    worker.once('error', reject)
    worker.postMessage(task)
  })
}

async function sign (command: SignCommand): Promise<void> {
  const started = performance.now()
  const count = command.to - command.from
  const signers = workers.slice(0, Math.max(1, Math.min(workers.length, command.threads ?? workers.length)))
  const share = Math.ceil(count / signers.length)
  await Promise.all(signers.map(async (worker, i) => {
    const from = command.from + i * share
    const to = Math.min(command.to, from + share)
    if (from < to) await signRange(worker, { from, to, paths: command.paths })
  }))
  let ids: Uint8Array | undefined
  if (command.returnIds) {
    ids = new Uint8Array(32 * BATCH_MESSAGES * count)
    for (let b = command.from; b < command.to; b++) {
      const batch = batches.get(b)
      if (batch === undefined) throw new Error(`batch ${b} was not signed`)
      ids.set(batch.ids, 32 * BATCH_MESSAGES * (b - command.from))
    }
  }
  reply({ type: 'signed', id: command.id, seconds: (performance.now() - started) / 1000, ...(ids === undefined ? {} : { ids }) })
}

function drop (command: DropCommand): void {
  for (let b = command.from; b < command.to; b++) batches.delete(b)
  reply({ type: 'dropped', id: command.id })
}

interface Answer {
  status: number
  text: string
}

function post (url: URL, agent: Agent, path: SubmissionPath, body: Uint8Array): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': CONTENT_TYPE[path], 'content-length': body.byteLength }
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Whether a 202 answer lists exactly the batch's ids, in order. */
function answerHoldsIds (text: string, ids: Uint8Array): boolean {
  let answer: unknown
  try {
    answer = JSON.parse(text)
  } catch {
    return false
  }
  if (typeof answer !== 'object' || answer === null || !('ids' in answer) || !Array.isArray(answer.ids)) return false
  const listed: unknown[] = answer.ids
  if (listed.length !== ids.byteLength / 32) return false
  return listed.every((id, i) => id === toHex(ids.subarray(32 * i, 32 * i + 32)))
}

async function run (command: RunCommand): Promise<void> {
  const url = new URL('/v1/messages', command.url)
  const agent = new Agent({ keepAlive: true, maxSockets: command.clients })
  const count = command.to - command.from
  const result: RunReply = {
    type: 'ran',
    id: command.id,
    startedAt: 0,
    endedAt: 0,
    ackAt: new Float64Array(count).fill(NaN),
    status: new Int16Array(count),
    refused: 0,
    failures: 0,
    badAnswers: 0,
    problems: [],
    ranOut: false,
    cpuPct: 0,
    elu: 0
  }
  const problem = (text: string): void => { if (result.problems.length < MAX_PROBLEMS) result.problems.push(text) }

  /** Sends batch b once; true when it was refused with 503 (and may be sent again). */
  const send = async (b: number): Promise<boolean> => {
    const batch = batches.get(b)
    const body = batch?.[command.path]
    if (batch === undefined || body === undefined) throw new Error(`batch ${b} has no ${command.path} body (not signed for it?)`)
    const i = b - command.from
    try {
      const answer = await post(url, agent, command.path, body)
      result.status[i] = answer.status
      if (answer.status === 202) {
        result.ackAt[i] = nowMs()
        if (!answerHoldsIds(answer.text, batch.ids)) {
          result.badAnswers++
          problem(`batch ${b}: the 202 answer does not list the batch's ids in order: ${answer.text.slice(0, 200)}`)
        }
        if (command.release) batches.delete(b)
        return false
      }
      if (answer.status === 503) {
        result.refused++
        return true
      }
      problem(`batch ${b}: ${answer.status} ${answer.text.slice(0, 300)}`)
      return false
    } catch (err) {
      result.status[i] = -1
      result.failures++
      problem(`batch ${b}: ${err instanceof Error ? err.message : String(err)}`)
      return false
    }
  }

  const cpuStart = process.cpuUsage()
  const eluStart = performance.eventLoopUtilization()
  result.startedAt = nowMs()
  const deadline = performance.now() + command.durationMs
  if (command.mode === 'closed') {
    let next = command.from
    const again: number[] = []
    const lane = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const b = again.shift() ?? (next < command.to ? next++ : undefined)
        if (b === undefined) {
          result.ranOut = true
          return
        }
        if (await send(b)) {
          again.push(b)
          await sleep(REFUSED_BACKOFF_MS)
        }
      }
    }
    await Promise.all(Array.from({ length: command.clients }, lane))
  } else {
    const everyMs = 1000 * BATCH_MESSAGES / (command.rate ?? 1)
    const started = performance.now()
    const inFlight: Array<Promise<boolean>> = []
    for (let k = 0; ; k++) {
      const due = started + k * everyMs
      if (due >= deadline) break
      if (command.from + k >= command.to) {
        result.ranOut = true
        break
      }
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
      inFlight.push(send(command.from + k))
    }
    await Promise.all(inFlight)
  }
  result.endedAt = nowMs()
  const cpu = process.cpuUsage(cpuStart)
  result.cpuPct = 100 * (cpu.user + cpu.system) / 1000 / (result.endedAt - result.startedAt)
  result.elu = performance.eventLoopUtilization(eluStart).utilization
  agent.destroy()
  reply(result)
}

async function handle (command: GeneratorCommand): Promise<void> {
  try {
    if (command.type === 'sign') await sign(command)
    else if (command.type === 'run') await run(command)
    else drop(command)
  } catch (err) {
    reply({ type: 'failed', id: command.id, error: err instanceof Error ? err.stack ?? err.message : String(err) })
  }
}

process.on('message', (command: GeneratorCommand) => { void handle(command) })
// The benchmark is gone (it exited, or was killed): so is its load.
process.on('disconnect', () => { process.exit(0) })
