// The HTTP API's answers (SPEC section 8) on real node processes, through fetch: every refused
// request gets its status and error code in {"error": {code, message}}, nothing is admitted
// from a refused batch, the node stays up; the binary path, --max-pending, a peer without
// subscribed peers, and a full disk.
import '../../../src/shared/polyfill.js'
import { spawnSync } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { messageToJson } from '../../../src/shared/json.js'
import type { Message } from '../../../src/shared/types.js'
import {
  getMessage, idOf, msgpackBatch, postMessages, postWithFetch, request, Sender, submitMessages, submitMsgpack, submitOk, submitToPeer,
  type ApiAnswer, type ErrorJson
} from '../../helpers/api-client.js'
import { createNodeProcess, startCluster, startLeader, type NodeProcess } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

const MAX_BODY_BYTES = 8 * 1024 * 1024

function isErrorJson (body: unknown): body is ErrorJson {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false
  const error: unknown = body.error
  if (typeof error !== 'object' || error === null || !('code' in error) || !('message' in error)) return false
  return typeof error.code === 'string' && typeof error.message === 'string' && error.message !== ''
}

/** Asserts an error answer: the status, the {"error": {code, message}} shape and the code. */
function assertError (t: ExecutionContext, answer: ApiAnswer<unknown>, status: number, code: string, what: string): void {
  t.is(answer.status, status, `${what}: status (body ${answer.text.slice(0, 200)})`)
  t.true(isErrorJson(answer.body), `${what}: the body is not {"error": {code, message}}: ${answer.text.slice(0, 200)}`)
  t.regex(answer.contentType, /application\/json/, `${what}: content type`)
  if (isErrorJson(answer.body)) t.is(answer.body.error.code, code, `${what}: error code (${answer.body.error.message})`)
}

async function assertUp (t: ExecutionContext, node: NodeProcess): Promise<void> {
  const answer = await request(node, '/v1/status')
  t.is(answer.status, 200, `${node.name} still answers /v1/status`)
  t.true(node.running, `${node.name} is still running`)
}

async function assertNoneAdmitted (t: ExecutionContext, node: NodeProcess, messages: readonly Message[], what: string): Promise<void> {
  for (const m of messages) t.is(await getMessage(node, idOf(m)), undefined, `${what}: message ${idOf(m)} was admitted`)
}

/** A validly encoded message whose signature does not verify (one content byte changed). */
function forge (message: Message): Message {
  const content = Uint8Array.from(message.content)
  content[0] ^= 0x01
  return { ...message, content }
}

test.serial('invalid JSON submissions answer 400 or 413 with their code, admit nothing, and the node stays up', async t => {
  const leader = await startLeader(t, { blockIntervalMs: 500 })
  const sender = new Sender()
  const [good] = sender.messages(1)
  const goodJson = messageToJson(good)

  assertError(t, await postMessages(leader, '{"sender": "ab",'), 400, 'MALFORMED_JSON', 'truncated JSON')
  assertError(t, await postMessages(leader, 'not json at all'), 400, 'MALFORMED_JSON', 'not JSON')
  assertError(t, await postMessages(leader, ''), 400, 'MALFORMED_JSON', 'empty body')

  const invalid: Array<[string, unknown]> = [
    // Wrong types.
    ['a number as the body', 42],
    ['a string as the body', 'hello'],
    ['null as the body', null],
    ['timestamp as a string', { ...goodJson, timestamp: String(goodJson.timestamp) }],
    ['nonce negative', { ...goodJson, nonce: -1 }],
    ['nonce fractional', { ...goodJson, nonce: 1.5 }],
    ['nonce above 2^53', { ...goodJson, nonce: 2 ** 53 }],
    ['sender as a number', { ...goodJson, sender: 7 }],
    ['content as an array', { ...goodJson, content: [1, 2, 3] }],
    ['signature missing', { ...goodJson, signature: undefined }],
    ['an array holding a number', [goodJson, 5]],
    // Bad hex and wrong lengths.
    ['sender not hex', { ...goodJson, sender: 'zz' + goodJson.sender.slice(2) }],
    ['sender 31 bytes', { ...goodJson, sender: goodJson.sender.slice(2) }],
    ['sender 33 bytes', { ...goodJson, sender: goodJson.sender + '00' }],
    ['signature 63 bytes', { ...goodJson, signature: goodJson.signature.slice(2) }],
    ['signature odd length', { ...goodJson, signature: goodJson.signature + '0' }],
    ['content not hex', { ...goodJson, content: 'xyz1' }],
    ['content odd length', { ...goodJson, content: goodJson.content + 'a' }]
  ]
  for (const [what, body] of invalid) assertError(t, await postMessages(leader, JSON.stringify(body)), 400, 'INVALID_MESSAGE', what)

  // Well formed, but not the sender's signature over this message.
  assertError(t, await submitMessages(leader, [forge(good)], true), 400, 'MESSAGE_BAD_SIGNATURE', 'forged signature')
  const otherSigner = new Sender().messages(1)[0]
  assertError(t, await postMessages(leader, JSON.stringify({ ...goodJson, signature: messageToJson(otherSigner).signature })), 400, 'MESSAGE_BAD_SIGNATURE', 'another key\'s signature')

  // Content over 4096 bytes, validly signed: MESSAGE_TOO_LARGE. Exactly 4096 is fine.
  assertError(t, await submitMessages(leader, [sender.message(new Uint8Array(4097).fill(0x61))]), 400, 'MESSAGE_TOO_LARGE', 'content of 4097 bytes')
  t.is((await submitMessages(leader, [sender.message(new Uint8Array(4096).fill(0x62))])).status, 202, 'content of exactly 4096 bytes is accepted')

  assertError(t, await postMessages(leader, '[]'), 400, 'EMPTY_BATCH', 'empty array')

  // A batch is admitted whole or not at all: one bad message, nothing from it is pending.
  const batch = sender.messages(3)
  assertError(t, await submitMessages(leader, [...batch, forge(good)]), 400, 'MESSAGE_BAD_SIGNATURE', 'a batch with one forged message')
  await assertNoneAdmitted(t, leader, batch, 'a batch with one forged message')

  // Over 10,000 messages in one batch: 413, even though each message is valid.
  const big = sender.messages(10_001, 8, 'b')
  assertError(t, await submitMessages(leader, big), 413, 'BATCH_TOO_LARGE', 'a batch of 10,001 messages')
  await assertNoneAdmitted(t, leader, big.slice(0, 3), 'a batch of 10,001 messages')

  // JSON whose parsing would cost far more than its bytes suggest is refused before parsing.
  assertError(t, await postMessages(leader, '['.repeat(40) + ']'.repeat(40)), 400, 'INVALID_MESSAGE', 'JSON nested 40 deep')
  assertError(t, await postMessages(leader, '[' + '{},'.repeat(2_000_000) + '{}]'), 413, 'BATCH_TOO_LARGE', '2,000,001 empty objects')
  assertError(t, await postMessages(leader, JSON.stringify({ ...goodJson, extra: new Array(200_000).fill(0) })), 413, 'BATCH_TOO_LARGE', 'a message with 200,000 values in an unknown field')

  // Bodies over 8 MiB, sent by fetch: the node reads the rest before closing, so fetch gets the 413.
  for (const size of [MAX_BODY_BYTES + 1024, 11_000_000]) {
    for (const chunked of [false, true]) {
      const what = `a body of ${size} bytes (${chunked ? 'chunked' : 'content-length'})`
      const answer = await postWithFetch(leader, '/v1/messages', new Uint8Array(size).fill(0x20), chunked)
      if ('error' in answer) t.fail(`${what}: fetch saw no answer: ${answer.error}`)
      else assertError(t, answer, 413, 'BODY_TOO_LARGE', what)
    }
  }

  // Exactly 10,000 is a valid batch.
  const full = await submitMessages(leader, big.slice(0, 10_000))
  t.is(full.status, 202, `a batch of 10,000 messages: ${full.text.slice(0, 200)}`)
  t.is(full.body.ids?.length, 10_000)

  await assertUp(t, leader)
  // And it still takes valid messages: unknown fields ignored, hex in either case, any content type read as JSON.
  const upper = { ...goodJson, sender: goodJson.sender.toUpperCase(), signature: goodJson.signature.toUpperCase(), note: 'ignored', extra: { a: 1 } }
  const accepted = await postMessages(leader, JSON.stringify(upper), 'text/plain')
  t.is(accepted.status, 202, accepted.text)
  t.deepEqual(accepted.body, { ids: [idOf(good)] })
  const noType = await request(leader, '/v1/messages', { method: 'POST', body: new TextEncoder().encode(JSON.stringify(messageToJson(sender.messages(1)[0]))) })
  t.is(noType.status, 202, `no content type is JSON: ${noType.text}`)
})

test.serial('the binary path: a MessagePack array of wire Messages, with the JSON form\'s answers', async t => {
  const leader = await startLeader(t, { blockIntervalMs: 500 })
  const sender = new Sender()

  const batch = sender.messages(5)
  const answer = await submitMsgpack(leader, batch)
  t.is(answer.status, 202, answer.text)
  t.deepEqual(answer.body.ids, batch.map(idOf), 'the ids in request order')
  const stored = await getMessage(leader, idOf(batch[2]))
  t.deepEqual(stored?.message, messageToJson(batch[2]), 'the message as submitted')

  // Any case, any parameters.
  for (const contentType of ['Application/MsgPack', 'application/msgpack; charset=binary', 'APPLICATION/MSGPACK ; q=1']) {
    const messages = sender.messages(2)
    const typed = await submitMsgpack(leader, messages, contentType)
    t.is(typed.status, 202, `${contentType}: ${typed.text}`)
    t.deepEqual(typed.body.ids, messages.map(idOf), contentType)
  }
  // Another type is JSON, so MessagePack bytes under it are not JSON.
  assertError(t, await submitMsgpack(leader, sender.messages(1), 'application/x-msgpack'), 400, 'MALFORMED_JSON', 'msgpack under another content type')

  const one = msgpackBatch(sender.messages(1))
  const malformed: Array<[string, Uint8Array]> = [
    ['a map', Uint8Array.from([0x81, 0xa1, 0x61, 0x01])],
    ['a string', Uint8Array.from([0xa5, ...new TextEncoder().encode('hello')])],
    ['trailing bytes', Uint8Array.from([...one, 0x00])],
    ['an array holding a number', Uint8Array.from([0x91, 0x05])],
    ['a message with a 31-byte sender', Uint8Array.from([0x91, 0x95, 0xc4, 31, ...new Uint8Array(31), 0x01, 0x01, 0xc4, 0x00, 0xc4, 64, ...new Uint8Array(64)])],
    ['a truncated batch', one.subarray(0, one.byteLength - 1)],
    ['JSON', new TextEncoder().encode(JSON.stringify([messageToJson(sender.messages(1)[0])]))],
    ['an empty body', new Uint8Array(0)]
  ]
  for (const [what, body] of malformed) assertError(t, await postMessages(leader, body, 'application/msgpack'), 400, 'MALFORMED_MSGPACK', what)

  const [good] = sender.messages(1)
  assertError(t, await submitMsgpack(leader, [forge(good)]), 400, 'MESSAGE_BAD_SIGNATURE', 'a bad signature')
  const mixed = sender.messages(3)
  assertError(t, await submitMsgpack(leader, [...mixed, forge(good)]), 400, 'MESSAGE_BAD_SIGNATURE', 'a batch with one bad signature')
  await assertNoneAdmitted(t, leader, mixed, 'a batch with one bad signature')
  assertError(t, await postMessages(leader, Uint8Array.from([0x90]), 'application/msgpack'), 400, 'EMPTY_BATCH', 'an empty array')
  assertError(t, await submitMsgpack(leader, [sender.message(new Uint8Array(4097).fill(0x61))]), 400, 'MESSAGE_TOO_LARGE', 'content of 4097 bytes')
  const big = sender.messages(10_001, 8, 'b')
  assertError(t, await submitMsgpack(leader, big), 413, 'BATCH_TOO_LARGE', 'a batch of 10,001 messages')
  await assertNoneAdmitted(t, leader, big.slice(0, 3), 'a batch of 10,001 messages')

  // A message already pending or included is not an error, and is admitted once.
  const again = await submitMsgpack(leader, batch)
  t.is(again.status, 202, again.text)
  t.deepEqual(again.body.ids, batch.map(idOf))
  await assertUp(t, leader)
})

test.serial('malformed and unknown paths answer 400, 404 or 405 with their code', async t => {
  const leader = await startLeader(t, { blockIntervalMs: 500 })
  await leader.waitForHeight(1)
  const cases: Array<[string, number, string]> = [
    ['/v1/blocks/abc', 400, 'INVALID_HEIGHT'],
    ['/v1/blocks/-1', 400, 'INVALID_HEIGHT'],
    ['/v1/blocks/1.5', 400, 'INVALID_HEIGHT'],
    ['/v1/blocks/1e3', 400, 'INVALID_HEIGHT'],
    ['/v1/blocks/99999999999999999999', 400, 'INVALID_HEIGHT'],
    ['/v1/blocks/999999999', 404, 'BLOCK_NOT_FOUND'],
    ['/v1/messages/xyz', 400, 'INVALID_ID'],
    ['/v1/messages/' + 'ab'.repeat(31), 400, 'INVALID_ID'],
    ['/v1/messages/' + 'g'.repeat(64), 400, 'INVALID_ID'],
    ['/v1/messages/' + 'ab'.repeat(300), 400, 'INVALID_ID'],
    ['/v1/messages/' + '00'.repeat(32), 404, 'MESSAGE_NOT_FOUND'],
    // Upper-case hex in a path is accepted (SPEC 8: either case on input).
    ['/v1/messages/' + 'AB'.repeat(32), 404, 'MESSAGE_NOT_FOUND'],
    ['/v1/nothing', 404, 'NOT_FOUND'],
    ['/v2/status', 404, 'NOT_FOUND'],
    ['/v1/blocks/1/extra', 404, 'NOT_FOUND']
  ]
  for (const [path, status, code] of cases) assertError(t, await request(leader, path), status, code, `GET ${path}`)
  assertError(t, await request(leader, '/v1/messages', { method: 'GET' }), 405, 'METHOD_NOT_ALLOWED', 'GET /v1/messages')
  assertError(t, await request(leader, '/v1/status', { method: 'POST', body: '{}' }), 405, 'METHOD_NOT_ALLOWED', 'POST /v1/status')
  assertError(t, await request(leader, '/v1/blocks/latest', { method: 'DELETE' }), 405, 'METHOD_NOT_ALLOWED', 'DELETE /v1/blocks/latest')
  t.is((await request(leader, '/v1/status/')).status, 200, 'a trailing slash names the same route')
  await assertUp(t, leader)
})

test.serial('--max-pending: a batch that would overfill pending is refused whole with 503 POOL_FULL, and admitted once there is room', async t => {
  const leader = await startLeader(t, { blockIntervalMs: 3000, extraArgs: ['--max-pending', '5'] })
  const sender = new Sender()
  // Right after a block, the next is about 3 s away: the steps below take a fraction of it.
  await leader.waitForHeight(1)
  const height = await leader.height()
  await leader.waitForHeight(height + 1)

  const six = sender.messages(6)
  assertError(t, await submitMessages(leader, six), 503, 'POOL_FULL', '6 messages with room for 5')
  assertError(t, await submitMsgpack(leader, six), 503, 'POOL_FULL', '6 messages with room for 5, binary')
  await assertNoneAdmitted(t, leader, six, 'a refused batch')

  const five = six.slice(0, 5)
  await submitOk(leader, five)
  const extra = sender.messages(1)
  const refused = await submitMessages(leader, extra)
  const pendingStill = await Promise.all(five.map(async m => (await getMessage(leader, idOf(m)))?.height === null))
  // A block in between would have made room: then there was nothing to refuse.
  if (pendingStill.every(Boolean)) assertError(t, refused, 503, 'POOL_FULL', 'a 6th message with 5 pending')
  else t.log('a block was built between the submissions; the full-pool answer was not exercised this run')
  // Messages already pending take no room.
  t.is((await submitMessages(leader, five)).status, 202, 'resubmitting pending messages is not an error')

  // Once a block has taken them, there is room again.
  await waitFor(async () => (await leader.status()).pending === 0, 15_000, 'a block to empty pending')
  await submitOk(leader, sender.messages(5))
  await assertUp(t, leader)
})

test.serial('a peer answers 202 once a message reached a subscribed peer, and 503 NO_PEERS when none is', async t => {
  const { leader, peers: [peer] } = await startCluster(t, { peers: 1, blockIntervalMs: 300 })
  const sender = new Sender()
  // With the leader up, the peer relays (202) through both paths, and the leader receives.
  const [jsonId] = await submitToPeer(peer, sender.messages(1))
  const binary = sender.messages(3)
  const relayed = await submitMsgpack(peer, binary)
  t.is(relayed.status, 202, relayed.text)
  t.deepEqual(relayed.body.ids, binary.map(idOf))
  for (const id of [jsonId, ...binary.map(idOf)]) {
    await waitFor(async () => await getMessage(leader, id) !== undefined, 15_000, `the leader to receive ${id}`)
  }
  // A bad batch is refused on the peer, as on the leader.
  assertError(t, await submitMsgpack(peer, [forge(sender.messages(1)[0])]), 400, 'MESSAGE_BAD_SIGNATURE', 'a bad signature on a peer')

  t.is(await leader.stop(), 0)
  await waitFor(async () => (await peer.status()).peers === 0, 15_000, 'the peer to see no peers')
  assertError(t, await submitMessages(peer, sender.messages(1)), 503, 'NO_PEERS', 'JSON to a peer without subscribed peers')
  assertError(t, await submitMsgpack(peer, sender.messages(2)), 503, 'NO_PEERS', 'binary to a peer without subscribed peers')
  await assertUp(t, peer)
})

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN, as in the CI container). */
function canMountTmpfs (): boolean {
  if (process.platform !== 'linux') return false
  const dir = mkdtempSync(join(tmpdir(), 'kimura-mount-probe-'))
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status === 0
  if (mounted) spawnSync('umount', [dir])
  rmSync(dir, { recursive: true, force: true })
  return mounted
}

// Skipped, and reported as skipped by ava, where no tmpfs can be mounted (not root).
const fullDiskTest = canMountTmpfs() ? test.serial : test.serial.skip

fullDiskTest('a full disk (a 24 MB tmpfs) answers 507 STORAGE_FULL, admits nothing, and admits again once space returns', async t => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'kimura-full-disk-'))
  t.is(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountPoint]).status, 0, 'mount a 24 MB tmpfs')
  t.teardown(() => {
    spawnSync('umount', ['-l', mountPoint])
    rmSync(mountPoint, { recursive: true, force: true })
  })
  const dataDir = join(mountPoint, 'db')
  mkdirSync(dataDir)
  // Long blocks: production does not race the admissions below for the last pages.
  const leader = createNodeProcess(t, { leader: true, dataDir, blockIntervalMs: 60_000 })
  await leader.start()
  const sender = new Sender()
  await submitOk(leader, sender.messages(1))

  // Fill what is left of the disk.
  const filler = join(mountPoint, 'filler')
  const fd = openSync(filler, 'w')
  const chunk = new Uint8Array(256 * 1024)
  try {
    for (let size = chunk.byteLength; size >= 1; size = Math.floor(size / 2)) {
      for (;;) {
        try { writeSync(fd, chunk, 0, size) } catch { break }
      }
    }
  } finally {
    closeSync(fd)
  }
  // A batch of about 2.5 MB needs pages the store has no room for.
  const batch = sender.messages(600, 4096, 'full')
  assertError(t, await submitMsgpack(leader, batch), 507, 'STORAGE_FULL', 'a batch on a full disk')
  assertError(t, await submitMessages(leader, batch.slice(0, 300)), 507, 'STORAGE_FULL', 'a JSON batch on a full disk')
  await assertNoneAdmitted(t, leader, [batch[0], batch[299], batch[599]], 'a batch on a full disk')
  await assertUp(t, leader)

  rmSync(filler)
  await submitOk(leader, batch)
  await assertUp(t, leader)
})
