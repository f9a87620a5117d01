// `kimura block <height|latest>`: prints a block as the node's API answers it (SPEC 8 JSON).
import { KimuraClient } from '../../client/index.js'
import { apiUrl, ignoreClosedStdout, reportClientError, usageError } from './client-cli.js'

export interface BlockCommandOptions {
  api: string
  height: string
  messages: boolean
}

export async function runBlock (options: BlockCommandOptions): Promise<number> {
  const height = options.height === 'latest' ? 'latest' : Number(options.height)
  if (height !== 'latest' && (!/^\d{1,16}$/.test(options.height) || !Number.isSafeInteger(height))) {
    return usageError('block', `a height is a non-negative integer or "latest", got "${options.height}"`)
  }
  const client = new KimuraClient(apiUrl(options.api))
  ignoreClosedStdout()
  try {
    const block = await client.block(height, { messages: options.messages })
    process.stdout.write(`${JSON.stringify(block, null, 2)}\n`)
    return 0
  } catch (err) {
    return reportClientError('block', err)
  }
}
