// Validly signed fixtures (the vector keys), whose mutations the targets also validate: only an
// encoding-level change of a signed value may still verify, never a different value.
import fc from 'fast-check'
import { GENESIS_BLOCK, GENESIS_HASH } from '../../../src/shared/block.js'
import { bytesKey } from '../../../src/shared/bytes.js'
import { encodeBlock, encodeMessage } from '../../../src/shared/codec.js'
import { messageId } from '../../../src/shared/hash.js'
import { DEFAULT_PARAMS } from '../../../src/shared/params.js'
import type { HashedBlock } from '../../../src/shared/types.js'
import type { BlockRules, ParentInfo } from '../../../src/shared/validation.js'
import { BASE_TIMESTAMP, leaderKey, makeChain, makeMessages } from '../../helpers/fixtures.js'

/** Two chains on genesis: blocks of three messages, and empty blocks. */
export const signedBlocks: HashedBlock[] = [
  ...makeChain(3, { messagesPerBlock: 3, contentBytes: 24 }),
  ...makeChain(2, { messagesPerBlock: 0, timestamp: BASE_TIMESTAMP + 7000 })
]
export const signedBlockEncodings: Uint8Array[] = signedBlocks.map(b => encodeBlock(b.block))

export const signedMessages = makeMessages(4, { contentBytes: 40 })
export const signedMessageEncodings: Uint8Array[] = signedMessages.map(encodeMessage)
export const signedMessageIds: Set<string> = new Set(signedMessages.map(m => bytesKey(messageId(m))))

/** Each signed block's parent, by the parent's hash. */
export const parents: Map<string, ParentInfo> = new Map([
  [bytesKey(GENESIS_HASH), { height: 0, hash: GENESIS_HASH, timestamp: GENESIS_BLOCK.header.timestamp }],
  ...signedBlocks.map((b): [string, ParentInfo] => [bytesKey(b.hash), { height: b.block.header.height, hash: b.hash, timestamp: b.block.header.timestamp }])
])

export const blocksByHash: Map<string, HashedBlock> = new Map(signedBlocks.map(b => [bytesKey(b.hash), b]))

export const rules: BlockRules = { params: DEFAULT_PARAMS, leaderKey: leaderKey.publicKey, now: BASE_TIMESTAMP + 3_600_000 }

export const signedBlockEncoding: fc.Arbitrary<Uint8Array> = fc.constantFrom(...signedBlockEncodings)
export const signedMessageEncoding: fc.Arbitrary<Uint8Array> = fc.constantFrom(...signedMessageEncodings)
