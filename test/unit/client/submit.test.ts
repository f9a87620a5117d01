// submit(): MessagePack by default, JSON on request; batches split at maxBlockMessages and at
// the 8 MiB body limit, sent in order; 503s and an unreachable node retried with backoff; a
// node with a smaller batch limit handled by halving; the ids checked and returned in order.
import '../../../src/shared/polyfill.js'
import test, { type ExecutionContext } from 'ava'
import { KimuraApiError, KimuraClient, KimuraTransportError, messageId, Sender, toHex, type Message } from '../../../src/client/index.js'
import { makeMessages, SENDER_SEED } from '../../helpers/fixtures.js'
import { FakeNode } from './fake-node.js'

async function startNode (t: ExecutionContext): Promise<FakeNode> {
  const node = new FakeNode()
  await node.start()
  t.teardown(async () => { await node.stop() })
  return node
}

const FAST_RETRY = { retry: { initialDelayMs: 5, maxDelayMs: 20 } }

/** Distinct signed messages; libsodium signs the bulk of them (noble, in Sender, is slower). */
let nonces = 0
function sign (count: number, contentBytes = 8): Message[] {
  const messages = makeMessages(count, { contentBytes, nonceStart: nonces })
  nonces += count
  return messages
}

const idsOf = (messages: Message[]): string[] => messages.map(m => toHex(messageId(m)))

test('one batch: MessagePack by default, JSON on request, the ids in order', async t => {
  const node = await startNode(t)
  const client = new KimuraClient({ url: node.url })
  const sender = new Sender(SENDER_SEED)
  const messages = Array.from({ length: 5 }, (_, i) => sender.sign(`message ${i}`))
  t.deepEqual(await client.submit(messages), idsOf(messages))
  const json = sign(3)
  t.deepEqual(await client.submit(json, { format: 'json' }), idsOf(json))
  t.deepEqual(node.batches, [{ format: 'msgpack', count: 5 }, { format: 'json', count: 3 }])
  t.is(node.pending.size, 8)
  t.deepEqual(await client.submit([]), [], 'nothing to send, no request')
  t.is(node.batches.length, 2)
})

test('25,001 messages go as 10,000 + 10,000 + 5,001, in order', async t => {
  const node = await startNode(t)
  const messages = sign(25_001)
  const ids = await new KimuraClient(node.url).submit(messages)
  t.deepEqual(ids, idsOf(messages))
  t.deepEqual(node.batches.map(b => b.count), [10_000, 10_000, 5_001])
  t.deepEqual([...node.pending.keys()], ids, 'admitted in request order')
})

test('batches split at the 8 MiB body limit too, in both formats', async t => {
  const node = await startNode(t)
  const client = new KimuraClient(node.url)
  // 4,000 messages of 4 KiB: about 16.6 MB as MessagePack, twice that as JSON hex.
  const messages = sign(4000, 4096)
  t.deepEqual(await client.submit(messages), idsOf(messages))
  const msgpackCounts = node.batches.map(b => b.count)
  t.true(msgpackCounts.length >= 2 && msgpackCounts.length <= 3, JSON.stringify(msgpackCounts))
  node.batches.length = 0
  const again = sign(1500, 4096)
  t.deepEqual(await client.submit(again, { format: 'json' }), idsOf(again))
  t.true(node.batches.length >= 2, JSON.stringify(node.batches))
  t.is(node.batches.reduce((n, b) => n + b.count, 0), 1500)
})

test('503 OVERLOADED, POOL_FULL and NO_PEERS are retried with backoff until admitted', async t => {
  const node = await startNode(t)
  node.submitFaults = [{ status: 503, code: 'OVERLOADED' }, { status: 503, code: 'POOL_FULL' }, { status: 503, code: 'NO_PEERS' }]
  const messages = sign(4)
  t.deepEqual(await new KimuraClient(node.url).submit(messages, FAST_RETRY), idsOf(messages))
  t.is(node.submitFaults.length, 0)
  t.deepEqual(node.batches, [{ format: 'msgpack', count: 4 }])
})

test('a 503 past the retries is thrown with its code and status; retry: false throws the first', async t => {
  const node = await startNode(t)
  const client = new KimuraClient(node.url)
  node.submitFaults = Array.from({ length: 4 }, () => ({ status: 503, code: 'POOL_FULL' }))
  const error = await t.throwsAsync(client.submit(sign(1), { retry: { attempts: 2, initialDelayMs: 5 } }))
  t.true(error instanceof KimuraApiError)
  if (error instanceof KimuraApiError) t.deepEqual([error.status, error.code], [503, 'POOL_FULL'])
  t.is(node.submitFaults.length, 1, 'the first try and two retries')
  node.submitFaults = [{ status: 503, code: 'OVERLOADED' }]
  await t.throwsAsync(client.submit(sign(1), { retry: false }), { instanceOf: KimuraApiError, message: 'injected' })
})

test('Retry-After is honoured as the least wait', async t => {
  const node = await startNode(t)
  node.submitFaults = [{ status: 503, code: 'OVERLOADED', retryAfter: 1 }]
  const started = Date.now()
  await new KimuraClient(node.url).submit(sign(1), FAST_RETRY)
  t.true(Date.now() - started >= 950, `${Date.now() - started} ms`)
})

test('errors that retrying cannot mend are thrown at once, with the API\'s code', async t => {
  const node = await startNode(t)
  const client = new KimuraClient(node.url)
  const [good] = sign(1)
  const forged = { ...good, signature: new Uint8Array(64) }
  const error = await t.throwsAsync(client.submit([forged], FAST_RETRY))
  t.true(error instanceof KimuraApiError)
  if (error instanceof KimuraApiError) t.deepEqual([error.status, error.code], [400, 'MESSAGE_BAD_SIGNATURE'])
  node.submitFaults = [{ status: 507, code: 'STORAGE_FULL' }]
  await t.throwsAsync(client.submit([good], FAST_RETRY), { instanceOf: KimuraApiError, message: 'injected' })
  t.is(node.batches.length, 0)
})

test('a node with a smaller batch limit: 413 halves the batch until it is taken', async t => {
  const node = await startNode(t)
  node.maxBatch = 300
  const messages = sign(1000)
  t.deepEqual(await new KimuraClient(node.url).submit(messages), idsOf(messages))
  t.true(node.batches.every(b => b.count <= 300))
  t.is(node.batches.reduce((n, b) => n + b.count, 0), 1000)
})

test('a batch that fails after earlier parts were admitted: acceptedIds names those', async t => {
  const node = await startNode(t)
  const messages = sign(25)
  const client = new KimuraClient({ url: node.url, submit: { maxBatchMessages: 10 } })
  // The third request of 10 is refused for good.
  let posts = 0
  const realFetch = globalThis.fetch
  const counting = new KimuraClient({
    url: node.url,
    submit: { maxBatchMessages: 10, retry: false },
    fetch: async (input, init) => {
      if (init?.method === 'POST' && ++posts === 3) node.submitFaults.push({ status: 400, code: 'INVALID_MESSAGE' })
      return await realFetch(input, init)
    }
  })
  const error = await t.throwsAsync(counting.submit(messages))
  t.true(error instanceof KimuraApiError)
  t.deepEqual((error as KimuraApiError).acceptedIds, idsOf(messages).slice(0, 20))
  t.deepEqual(await client.submit(messages), idsOf(messages), 'the whole batch again: admitted, the first 20 as duplicates')
  t.is(node.pending.size, 25)
})

test('ids the node did not compute from the messages are a BAD_RESPONSE', async t => {
  const node = await startNode(t)
  const client = new KimuraClient({
    url: node.url,
    fetch: async () => await Promise.resolve(new Response(JSON.stringify({ ids: ['00'.repeat(32)] }), { status: 202, headers: { 'content-type': 'application/json' } }))
  })
  const error = await t.throwsAsync(client.submit(sign(1)))
  t.true(error instanceof KimuraTransportError)
  t.is((error as KimuraTransportError).code, 'BAD_RESPONSE')
})

test('a node that cannot be reached is retried, then UNREACHABLE is thrown', async t => {
  const node = await startNode(t)
  const url = node.url
  await node.stop()
  let calls = 0
  const client = new KimuraClient({ url, fetch: async (input, init) => { calls++; return await fetch(input, init) } })
  const error = await t.throwsAsync(client.submit(sign(1), { retry: { attempts: 3, initialDelayMs: 5 } }))
  t.true(error instanceof KimuraTransportError)
  t.is((error as KimuraTransportError).code, 'UNREACHABLE')
  t.is(calls, 4)
  // Back again: admitted.
  await node.start()
  t.is((await new KimuraClient(url).submit(sign(1))).length, 1)
})
