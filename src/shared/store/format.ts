// The store's format version (recorded in `metadata` as `formatVersion`) and the migrations
// from older formats. A store without the record was made before versions were recorded:
// format 0. Migrations run on open by the main thread (initialize: true), in one transaction.
//
// Format 0: a `messages` value is u64be(height) || u32be(index) || the encoded Message, so
//           every included message is stored twice, in its block and here.
// Format 1: a `messages` value is the message's place, u64be(height) || u32be(index) ||
//           u32be(byteOffset) || u32be(byteLength) of its bytes inside the stored block.
import { messageOffsetsIn, decodeBlock } from '../codec.js'
import { KimuraError } from '../errors.js'
import { messageId } from '../hash.js'
import type { BinaryDb } from './databases.js'
import { messagePlaceValue, u64be } from './keys.js'

/** The format this code writes, and the only one it reads without migrating. */
export const STORE_FORMAT_VERSION = 1

/** What a migration did, for the opener to log. */
export interface FormatMigration {
  from: number
  to: number
  blocks: number
  messages: number
  /** Wall time of the migration transaction, ms. */
  ms: number
}

export function unsupportedFormat (dataDir: string, version: number): KimuraError {
  return new KimuraError('ERR_STORE_FORMAT',
    `the store in ${dataDir} has format version ${version}; this Kimura supports format ${STORE_FORMAT_VERSION} (and migrates older ones): it was written by a newer Kimura, run that one`,
    { dataDir, formatVersion: version, supported: STORE_FORMAT_VERSION })
}

export function needsMigration (dataDir: string, version: number): KimuraError {
  return new KimuraError('ERR_STORE_FORMAT',
    `the store in ${dataDir} has format version ${version}; the node migrates it to format ${STORE_FORMAT_VERSION} when it opens it (initialize), which has not happened`,
    { dataDir, formatVersion: version, supported: STORE_FORMAT_VERSION })
}

function corrupt (why: string): never {
  throw new KimuraError('ERR_STORE_CORRUPT', `format 0 to 1 migration: ${why}; the store was left as it was`)
}

/**
 * Format 0 to 1, inside the caller's write transaction: every `messages` value becomes its
 * place, found by decoding the blocks of heights 1 to `tipHeight` with the strict decoder.
 * Each id is recomputed from the block (a block is the record; `messages` only indexes it),
 * and every entry of `messages` must be one of them.
 */
export function migrateFormat0 (dbs: { blocks: BinaryDb, messages: BinaryDb }, tipHeight: number): Omit<FormatMigration, 'ms'> {
  let messages = 0
  for (let height = 1; height <= tipHeight; height++) {
    const stored = dbs.blocks.getBinary(u64be(height))
    if (stored === undefined) corrupt(`block ${height} is missing`)
    const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength)
    const raw: Uint8Array[] = []
    const decoded = decodeBlock(bytes, raw)
    if (!decoded.ok) corrupt(`block ${height} does not decode: ${decoded.reason}`)
    const offsets = messageOffsetsIn(bytes, raw)
    decoded.value.messages.forEach((message, index) => {
      const place = { height, index, byteOffset: offsets[2 * index], byteLength: offsets[2 * index + 1] }
      dbs.messages.putSync(Buffer.from(messageId(message)), messagePlaceValue(place))
    })
    messages += decoded.value.messages.length
  }
  // Ids are unique across the chain: as many entries as messages means each was rewritten.
  const entries = dbs.messages.getCount()
  if (entries !== messages) corrupt(`messages holds ${entries} entries but the blocks hold ${messages} messages`)
  return { from: 0, to: STORE_FORMAT_VERSION, blocks: tipHeight, messages }
}
