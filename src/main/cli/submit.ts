// `kimura submit`: signs messages with a sender key (created on first use) and posts them to
// a node's HTTP API in the binary form; with --wait, follows them until they are in a block.
import { randomInt } from 'node:crypto'
import { signMessage } from '../../shared/block.js'
import { loadOrCreateSigningKey } from '../../shared/key-file.js'
import { toHex } from '../../shared/bytes.js'
import { encodeMessage, joinEncodedMessages } from '../../shared/codec.js'
import { parseApiAddress } from '../config.js'

export interface SubmitOptions {
  api: string
  keyFile: string
  texts: string[]
  wait: boolean
}

const WAIT_TIMEOUT_MS = 120_000
const POLL_MS = 250

export async function runSubmit (options: SubmitOptions): Promise<number> {
  const address = parseApiAddress(options.api)
  if (address === null) throw new Error('--api cannot be off for submit')
  const base = `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`
  const { key, created } = loadOrCreateSigningKey(options.keyFile)
  if (created) process.stderr.write(`created sender key ${options.keyFile} (public key ${toHex(key.publicKey)})\n`)
  // A random start keeps two submissions of the same text in the same millisecond distinct.
  const nonce = randomInt(0, 2 ** 47)
  const timestamp = Date.now()
  const messages = options.texts.map((text, i) => signMessage(key, { timestamp, nonce: nonce + i, content: new TextEncoder().encode(text) }))
  // The binary form (SPEC 8): a MessagePack array of wire Messages, read by the strict decoder.
  const response = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/msgpack' },
    body: joinEncodedMessages(messages.map(encodeMessage))
  })
  const body = await response.json() as { ids?: string[], error?: { code: string, message: string } }
  if (response.status !== 202 || body.ids === undefined) {
    process.stderr.write(`submit failed: HTTP ${response.status} ${body.error?.code ?? ''}: ${body.error?.message ?? JSON.stringify(body)}\n`)
    return 1
  }
  body.ids.forEach((id, i) => { process.stdout.write(`${id}  ${JSON.stringify(options.texts[i])}\n`) })
  if (!options.wait) return 0
  const deadline = Date.now() + WAIT_TIMEOUT_MS
  for (const id of body.ids) {
    for (;;) {
      const res = await fetch(`${base}/v1/messages/${id}`)
      const found = res.status === 200 ? await res.json() as { height: number | null } : undefined
      if (found?.height != null) {
        process.stdout.write(`${id}  included in block ${found.height}\n`)
        break
      }
      if (Date.now() > deadline) {
        process.stderr.write(`${id}  not in a block after ${WAIT_TIMEOUT_MS / 1000} s\n`)
        return 1
      }
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
    }
  }
  return 0
}
