// `kimura follow`: prints blocks as the node stores them, one line each, from the event stream
// (resumed by the client after a drop, nothing missed or repeated), until Ctrl-C.
import { KimuraClient, type BlockJson } from '../../client/index.js'
import { apiUrl, reportClientError } from './client-cli.js'

export interface FollowOptions {
  api: string
  /** The first height to print; without it, blocks stored from now on. */
  from?: number
}

/** `<height>  <ISO time>  <n> messages  <hash>` */
export function blockLine (block: BlockJson): string {
  const count = block.messageIds.length
  return `${block.header.height}  ${new Date(block.header.timestamp).toISOString()}  ${count} message${count === 1 ? '' : 's'}  ${block.hash}`
}

export async function runFollow (options: FollowOptions): Promise<number> {
  const client = new KimuraClient(apiUrl(options.api))
  const controller = new AbortController()
  const stop = (): void => { controller.abort() }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  // `kimura follow | head`: a closed pipe ends the command, not a crash.
  process.stdout.on('error', stop)
  try {
    const events = client.events({
      ...(options.from === undefined ? {} : { from: options.from }),
      signal: controller.signal,
      onReconnect: info => {
        if (info.reason === 'error') {
          const where = info.lastHeight === undefined ? '' : ` after block ${info.lastHeight}`
          process.stderr.write(`kimura follow: ${info.error?.message ?? 'the stream broke off'} (${info.error?.code ?? 'UNREACHABLE'}); resuming${where} in ${Math.round(info.delayMs)} ms\n`)
        }
      }
    })
    for await (const block of events) process.stdout.write(`${blockLine(block)}\n`)
    return 0
  } catch (err) {
    if (controller.signal.aborted) return 0
    return reportClientError('follow', err)
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    process.stdout.off('error', stop)
  }
}
