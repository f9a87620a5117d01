// `kimura prove <id>`: fetches a message's inclusion proof and its block's header, verifies
// them (verifyInclusion: audit path, block hash, leader signature), prints the proof and the
// key it was verified against, and exits non-zero when it does not verify. Without
// --leader-key the key is the one the node reports, which shows only that the node agrees
// with itself: the output says so.
import { fromHex, KimuraClient, toHex, verifyInclusion } from '../../client/index.js'
import { apiUrl, ignoreClosedStdout, reportClientError, usageError } from './client-cli.js'

export interface ProveOptions {
  api: string
  id: string
  /** The leader's public key, hex, pinned by the user. */
  leaderKey?: string
}

export async function runProve (options: ProveOptions): Promise<number> {
  const id = fromHex(options.id, 32)
  if (id === undefined) return usageError('prove', `a message id is 64 hex characters, got "${options.id}"`)
  const pinned = options.leaderKey === undefined ? undefined : fromHex(options.leaderKey, 32)
  if (options.leaderKey !== undefined && pinned === undefined) return usageError('prove', `--leader-key is 64 hex characters, got "${options.leaderKey}"`)
  const client = new KimuraClient(apiUrl(options.api))
  ignoreClosedStdout()
  try {
    const proof = await client.proof(id)
    const { header } = await client.block(proof.height)
    const key = pinned === undefined ? (await client.status()).leaderKey : toHex(pinned)
    const verdict = verifyInclusion(proof, id, header, key)
    process.stdout.write(`${JSON.stringify(proof, null, 2)}\n`)
    if (pinned === undefined) {
      process.stdout.write(`leader key: ${key} (reported by the node, not pinned)\n`)
      process.stderr.write('kimura prove: no --leader-key given, so the proof was checked against the key the node itself reports: ' +
        'that shows only that the node agrees with itself. Pin the network\'s leader key with --leader-key (or KIMURA_LEADER_KEY).\n')
    } else {
      process.stdout.write(`leader key: ${key} (pinned with --leader-key)\n`)
    }
    if (!verdict.ok) {
      process.stdout.write('verified: no\n')
      process.stderr.write(`kimura prove: the proof does not verify: ${verdict.reason} (${verdict.code})\n`)
      return 1
    }
    process.stdout.write(`verified: message ${toHex(id)} is in block ${proof.height} (hash ${proof.blockHash}), signed by that key\n`)
    return 0
  } catch (err) {
    return reportClientError('prove', err)
  }
}
