// The HTTP API's error answers (issue #5, SPEC section 8): every bad request gets a 4xx with
// {"error": {code, message}}, nothing is admitted from a bad batch, and the node stays up.
import '../../../src/shared/polyfill.js'
import test, { type ExecutionContext } from 'ava'
import { messageToJson } from '../../../src/shared/json.js'
import {
  getMessage, idOf, postMessages, postRaw, request, Sender, submitMessages, submitToPeer, type ApiAnswer, type ErrorJson
} from '../../helpers/api-client.js'
import { startCluster, startLeader, type NodeProcess } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

const MAX_BODY_BYTES = 8 * 1024 * 1024

function isErrorJson (body: unknown): body is ErrorJson {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false
  const error: unknown = body.error
  if (typeof error !== 'object' || error === null || !('code' in error) || !('message' in error)) return false
  return typeof error.code === 'string' && typeof error.message === 'string' && error.message !== ''
}

/** Asserts an error answer: the status, the {"error": {code, message}} shape and, if given, the code. */
function assertError (t: ExecutionContext, answer: ApiAnswer<unknown>, status: number, code: string | undefined, what: string): void {
  t.is(answer.status, status, `${what}: status (body ${answer.text.slice(0, 200)})`)
  t.true(isErrorJson(answer.body), `${what}: the body is not {"error": {code, message}}: ${answer.text.slice(0, 200)}`)
  t.regex(answer.contentType, /application\/json/, `${what}: content type`)
  if (code !== undefined && isErrorJson(answer.body)) t.is(answer.body.error.code, code, `${what}: error code`)
}

async function assertUp (t: ExecutionContext, node: NodeProcess): Promise<void> {
  const answer = await request(node, '/v1/status')
  t.is(answer.status, 200, `${node.name} still answers /v1/status`)
  t.true(node.running, `${node.name} is still running`)
}

test.serial('invalid submissions answer 400 or 413 with an error body, admit nothing, and the node stays up', async t => {
  const leader = await startLeader(t, { blockIntervalMs: 500 })
  const sender = new Sender()
  const [good] = sender.messages(1)
  const goodJson = messageToJson(good)

  assertError(t, await postMessages(leader, '{"sender": "ab",'), 400, 'MALFORMED_JSON', 'truncated JSON')
  assertError(t, await postMessages(leader, 'not json at all'), 400, 'MALFORMED_JSON', 'not JSON')
  assertError(t, await postMessages(leader, ''), 400, 'MALFORMED_JSON', 'empty body')

  // Wrong types.
  const wrongTypes: Array<[string, unknown]> = [
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
    ['an array holding a number', [goodJson, 5]]
  ]
  for (const [what, body] of wrongTypes) assertError(t, await postMessages(leader, JSON.stringify(body)), 400, undefined, what)

  // Bad hex and wrong lengths.
  const badHex: Array<[string, unknown]> = [
    ['sender not hex', { ...goodJson, sender: 'zz' + goodJson.sender.slice(2) }],
    ['sender 31 bytes', { ...goodJson, sender: goodJson.sender.slice(2) }],
    ['sender 33 bytes', { ...goodJson, sender: goodJson.sender + '00' }],
    ['signature 63 bytes', { ...goodJson, signature: goodJson.signature.slice(2) }],
    ['signature odd length', { ...goodJson, signature: goodJson.signature + '0' }],
    ['content not hex', { ...goodJson, content: 'xyz1' }],
    ['content odd length', { ...goodJson, content: goodJson.content + 'a' }]
  ]
  for (const [what, body] of badHex) assertError(t, await postMessages(leader, JSON.stringify(body)), 400, undefined, what)

  // A forged signature: well formed, but not the sender's over this message.
  const forged = { ...goodJson, content: goodJson.content.replace(/^../, goodJson.content.startsWith('00') ? '01' : '00') }
  assertError(t, await postMessages(leader, JSON.stringify(forged)), 400, undefined, 'forged signature')
  const otherSigner = new Sender().messages(1)[0]
  assertError(t, await postMessages(leader, JSON.stringify({ ...goodJson, signature: messageToJson(otherSigner).signature })), 400, undefined, 'another key\'s signature')

  // Content over 4096 bytes, validly signed: MESSAGE_TOO_LARGE. Exactly 4096 is fine.
  const tooLarge = sender.message(new Uint8Array(4097).fill(0x61))
  assertError(t, await submitMessages(leader, [tooLarge]), 400, 'MESSAGE_TOO_LARGE', 'content of 4097 bytes')
  t.is((await submitMessages(leader, [sender.message(new Uint8Array(4096).fill(0x62))])).status, 202, 'content of exactly 4096 bytes is accepted')

  // An empty batch.
  assertError(t, await postMessages(leader, '[]'), 400, undefined, 'empty array')

  // A batch is admitted whole or not at all: one bad message, nothing from it is pending.
  const batch = sender.messages(3)
  const mixed = [...batch.map(messageToJson), forged]
  assertError(t, await postMessages(leader, JSON.stringify(mixed)), 400, undefined, 'a batch with one forged message')
  for (const m of batch) t.is(await getMessage(leader, idOf(m)), undefined, 'a message of a refused batch was admitted')

  // Over 10,000 messages in one batch: 413, even though each message is valid.
  const big = sender.messages(10_001, 8, 'b')
  const bigAnswer = await submitMessages(leader, big)
  assertError(t, bigAnswer, 413, undefined, 'a batch of 10,001 messages')
  t.is(await getMessage(leader, idOf(big[0])), undefined, 'a message of an oversized batch was admitted')

  // A body over 8 MiB: 413, with content-length declared and streamed without one.
  const hugeBody = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20)
  for (const chunked of [false, true]) {
    const answer = await postRaw(leader, '/v1/messages', hugeBody, chunked)
    const what = `a body of 8 MiB + 1 byte (${chunked ? 'chunked' : 'content-length'})`
    if ('error' in answer) {
      t.fail(`${what}: no answer, the connection failed: ${answer.error}`)
    } else {
      let body: unknown
      try { body = JSON.parse(answer.text) } catch { body = undefined }
      assertError(t, { status: answer.status, text: answer.text, body, contentType: 'application/json' }, 413, undefined, what)
    }
  }

  // Exactly 10,000 is a valid batch.
  const full = await submitMessages(leader, big.slice(0, 10_000))
  t.is(full.status, 202, `a batch of 10,000 messages: ${full.text.slice(0, 200)}`)
  t.is(full.body.ids?.length, 10_000)

  await assertUp(t, leader)
  // And it still takes valid messages: unknown fields ignored, hex in either case.
  const upper = { ...goodJson, sender: goodJson.sender.toUpperCase(), signature: goodJson.signature.toUpperCase(), note: 'ignored', extra: { a: 1 } }
  const accepted = await postMessages(leader, JSON.stringify(upper))
  t.is(accepted.status, 202, accepted.text)
  t.deepEqual(accepted.body, { ids: [idOf(good)] })
})

test.serial('malformed and unknown paths answer 400 and 404 with an error body', async t => {
  const leader = await startLeader(t, { blockIntervalMs: 500 })
  await leader.waitForHeight(1)
  const cases: Array<[string, number, string | undefined]> = [
    ['/v1/blocks/abc', 400, 'INVALID_HEIGHT'],
    ['/v1/blocks/-1', 400, 'INVALID_HEIGHT'],
    ['/v1/blocks/1.5', 400, 'INVALID_HEIGHT'],
    ['/v1/blocks/1e3', 400, 'INVALID_HEIGHT'],
    ['/v1/blocks/99999999999999999999', 400, 'INVALID_HEIGHT'],
    ['/v1/blocks/999999999', 404, 'BLOCK_NOT_FOUND'],
    ['/v1/messages/xyz', 400, 'INVALID_ID'],
    ['/v1/messages/' + 'ab'.repeat(31), 400, 'INVALID_ID'],
    ['/v1/messages/' + 'g'.repeat(64), 400, 'INVALID_ID'],
    ['/v1/messages/' + '00'.repeat(32), 404, 'MESSAGE_NOT_FOUND'],
    ['/v1/nothing', 404, undefined],
    ['/v2/status', 404, undefined],
    ['/', 404, undefined],
    ['/v1/blocks', 404, undefined],
    ['/v1/blocks/1/extra', 404, undefined]
  ]
  for (const [path, status, code] of cases) assertError(t, await request(leader, path), status, code, `GET ${path}`)
  // Upper-case hex in a path is accepted (SPEC 8: either case on input).
  assertError(t, await request(leader, '/v1/messages/' + 'AB'.repeat(32)), 404, 'MESSAGE_NOT_FOUND', 'GET an unknown id in upper case')
  const wrongMethod = await request(leader, '/v1/messages', { method: 'GET' })
  t.true(wrongMethod.status >= 400 && wrongMethod.status < 500 && isErrorJson(wrongMethod.body), `GET /v1/messages answered ${wrongMethod.status} ${wrongMethod.text}`)
  const postStatus = await request(leader, '/v1/status', { method: 'POST', body: '{}' })
  t.true(postStatus.status >= 400 && postStatus.status < 500 && isErrorJson(postStatus.body), `POST /v1/status answered ${postStatus.status} ${postStatus.text}`)
  await assertUp(t, leader)
})

test.serial('a peer answers 503 NO_LEADER while its leader is down', async t => {
  const { leader, peers: [peer] } = await startCluster(t, { peers: 1, blockIntervalMs: 300 })
  const sender = new Sender()
  // With the leader up, the peer relays (202).
  await submitToPeer(peer, sender.messages(1))
  t.is(await leader.stop(), 0)
  await waitFor(async () => (await peer.status()).peers === 0, 15_000, 'the peer to see no peers')
  const answer = await submitMessages(peer, sender.messages(1))
  assertError(t, answer, 503, 'NO_LEADER', 'submitting to a peer without a leader')
  await assertUp(t, peer)
})
