// A TCP proxy in front of a node's HTTP API that cuts each connection after a while (both
// sockets destroyed, as a failing network does), recording each request's head, for tests of
// a client that must resume.
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { ExecutionContext } from 'ava'

export class CuttingProxy {
  /** The head (request line and headers) of every request that came through, in order. */
  readonly requests: string[] = []
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()

  /** `cutAfterMs`: each connection lives this long, then is cut. */
  constructor (private readonly upstreamPort: number, private readonly cutAfterMs: number) {}

  get url (): string {
    const address = this.server?.address() as AddressInfo | null | undefined
    if (address == null) throw new Error('not started')
    return `http://127.0.0.1:${address.port}`
  }

  async start (t: ExecutionContext): Promise<void> {
    const server = createServer(client => {
      const upstream = createConnection({ host: '127.0.0.1', port: this.upstreamPort })
      for (const socket of [client, upstream]) {
        this.sockets.add(socket)
        socket.on('close', () => this.sockets.delete(socket))
        socket.on('error', () => { client.destroy(); upstream.destroy() })
      }
      let head = ''
      client.on('data', (chunk: Buffer) => {
        if (!head.includes('\r\n\r\n')) {
          head += chunk.toString('latin1')
          if (head.includes('\r\n\r\n')) this.requests.push(head.slice(0, head.indexOf('\r\n\r\n')))
        }
      })
      client.pipe(upstream)
      upstream.pipe(client)
      const cut = setTimeout(() => { client.destroy(); upstream.destroy() }, this.cutAfterMs)
      client.on('close', () => { clearTimeout(cut) })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    this.server = server
    t.teardown(async () => { await this.stop() })
  }

  async stop (): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>(resolve => this.server?.close(() => { resolve() }) ?? resolve())
  }

  /** The Last-Event-ID header of each request, undefined where it had none. */
  lastEventIds (): Array<string | undefined> {
    return this.requests.map(head => /^last-event-id:\s*(.*)$/im.exec(head)?.[1]?.trim())
  }
}
