// The benchmark's side of the load generator (load-generator.ts): forks it, sends it commands
// and awaits their replies. The child exits when this process does (its IPC channel closes).
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { GeneratorCommand, GeneratorReply, RunCommand, RunReply, SignCommand, SignedReply } from './load-protocol.js'

/** Omit over each member of a union (the plain Omit would merge them). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

export class LoadGenerator {
  private child: ChildProcess | undefined
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (reply: GeneratorReply) => void, reject: (err: Error) => void }>()

  get pid (): number | undefined {
    return this.child?.pid
  }

  start (): void {
    const child = fork(fileURLToPath(new URL('./load-generator.js', import.meta.url)), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child = child
    child.on('message', (reply: GeneratorReply) => {
      const waiter = this.waiting.get(reply.id)
      this.waiting.delete(reply.id)
      if (reply.type === 'failed') waiter?.reject(new Error(`load generator: ${reply.error}`))
      else waiter?.resolve(reply)
    })
    child.once('exit', (code, signal) => {
      const err = new Error(`the load generator exited (${code ?? signal})`)
      for (const waiter of this.waiting.values()) waiter.reject(err)
      this.waiting.clear()
      this.child = undefined
    })
  }

  private async ask<R extends GeneratorReply> (command: DistributiveOmit<GeneratorCommand, 'id'>): Promise<R> {
    const child = this.child
    if (child === undefined) throw new Error('the load generator is not running')
    const id = this.nextId++
    const reply = new Promise<GeneratorReply>((resolve, reject) => { this.waiting.set(id, { resolve, reject }) })
    child.send({ ...command, id })
    return await reply as R
  }

  async sign (command: Omit<SignCommand, 'id' | 'type'>): Promise<SignedReply> {
    return await this.ask<SignedReply>({ type: 'sign', ...command })
  }

  async run (command: Omit<RunCommand, 'id' | 'type'>): Promise<RunReply> {
    return await this.ask<RunReply>({ type: 'run', ...command })
  }

  async drop (from: number, to: number): Promise<void> {
    await this.ask({ type: 'drop', from, to })
  }

  stop (): void {
    this.child?.kill('SIGKILL')
    this.child = undefined
  }
}
