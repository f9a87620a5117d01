// `kimura submit`: signs messages with a sender key (created on first use) and submits them
// through kimura/client, in the binary form unless --format json; with --wait, follows them
// until they are in a block.
import { KimuraApiError, KimuraClient, KimuraClientError, KimuraTimeoutError, type SubmitFormat } from '../../client/index.js'
import { loadOrCreateSender } from '../../client/node.js'
import { apiUrl, ignoreClosedStdout } from './client-cli.js'

export interface SubmitOptions {
  api: string
  keyFile: string
  texts: string[]
  wait: boolean
  format?: SubmitFormat
}

const WAIT_TIMEOUT_MS = 120_000

export async function runSubmit (options: SubmitOptions): Promise<number> {
  const client = new KimuraClient(apiUrl(options.api))
  ignoreClosedStdout()
  const { sender, created } = loadOrCreateSender(options.keyFile)
  if (created) process.stderr.write(`created sender key ${options.keyFile} (public key ${sender.publicKeyHex})\n`)
  // One timestamp for the batch; the Sender's nonces (from a random start) keep two
  // submissions of the same text in the same millisecond distinct.
  const timestamp = Date.now()
  const messages = options.texts.map(text => sender.sign(text, { timestamp }))
  let ids: string[]
  try {
    ids = await client.submit(messages, { format: options.format ?? 'msgpack' })
  } catch (err) {
    if (err instanceof KimuraApiError) process.stderr.write(`submit failed: HTTP ${err.status} ${err.code}: ${err.message}\n`)
    else if (err instanceof KimuraClientError) process.stderr.write(`submit failed: ${err.message} (${err.code})\n`)
    else throw err
    return 1
  }
  ids.forEach((id, i) => { process.stdout.write(`${id}  ${JSON.stringify(options.texts[i])}\n`) })
  if (!options.wait) return 0
  try {
    for (const { id, height } of await client.waitForInclusion(ids, { timeoutMs: WAIT_TIMEOUT_MS })) {
      process.stdout.write(`${id}  included in block ${height}\n`)
    }
    return 0
  } catch (err) {
    if (!(err instanceof KimuraClientError)) throw err
    if (err instanceof KimuraTimeoutError) {
      for (const { id, height } of err.included) process.stdout.write(`${id}  included in block ${height}\n`)
      for (const id of err.pending) process.stderr.write(`${id}  not in a block after ${WAIT_TIMEOUT_MS / 1000} s\n`)
    } else {
      process.stderr.write(`submit --wait failed: ${err.message} (${err.code})\n`)
    }
    return 1
  }
}
