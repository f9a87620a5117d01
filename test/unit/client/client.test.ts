// KimuraClient's reads and errors against a fake node that answers as SPEC 8 says: blocks,
// ranges, messages, proofs; the API's code and status on KimuraApiError; transport failures
// as KimuraTransportError; arguments checked before any request; waitForInclusion.
import '../../../src/shared/polyfill.js'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import test, { type ExecutionContext } from 'ava'
import { KimuraApiError, KimuraClient, KimuraTimeoutError, KimuraTransportError, Sender, toHex, verifyInclusion } from '../../../src/client/index.js'
import { leaderKey, makeMessages, SENDER_SEED } from '../../helpers/fixtures.js'
import { FakeNode } from './fake-node.js'

async function startNode (t: ExecutionContext, blocks = 3): Promise<FakeNode> {
  const node = new FakeNode()
  await node.start()
  t.teardown(async () => { await node.stop() })
  for (let i = 0; i < blocks; i++) node.produce(makeMessages(3, { nonceStart: 100 * i }))
  return node
}

/** A server answering every request with `status` and `body`, or holding it (`hang`). */
async function rawServer (t: ExecutionContext, answer: { status: number, body: string, hang?: boolean }): Promise<string> {
  const server = createServer((_req, res) => {
    if (answer.hang === true) return
    res.writeHead(answer.status, { 'content-type': 'text/plain' })
    res.end(answer.body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function apiError (t: ExecutionContext, promise: Promise<unknown>): Promise<KimuraApiError> {
  const error = await t.throwsAsync(promise)
  if (!(error instanceof KimuraApiError)) throw new Error(`not a KimuraApiError: ${String(error)}`)
  return error
}

test('status, block, blocks, message and proof answer SPEC 8\'s JSON', async t => {
  const node = await startNode(t)
  const client = new KimuraClient({ url: `${node.url}/` })
  t.is(client.url, node.url, 'a trailing slash is dropped')
  const status = await client.status()
  t.is(status.height, 3)
  t.is(status.leaderKey, toHex(leaderKey.publicKey))
  const latest = await client.block('latest')
  t.is(latest.header.height, 3)
  t.is(latest.messages, undefined)
  const withMessages = await client.block(2, { messages: true })
  t.is(withMessages.messages?.length, 3)
  t.deepEqual((await client.blocks(1, 2)).map(b => b.header.height), [1, 2])
  t.deepEqual(await client.blocks(10), [])
  const id = withMessages.messageIds[1]
  const found = await client.message(id)
  t.is(found.height, 2)
  t.deepEqual(found.message, withMessages.messages?.[1])
  const proof = await client.proof(id.toUpperCase())
  t.deepEqual([proof.height, proof.index, proof.count], [2, 1, 3])
  t.deepEqual(verifyInclusion(proof, id, withMessages.header, leaderKey.publicKey), { ok: true })
})

test('error answers are KimuraApiError with the API\'s status and code', async t => {
  const node = await startNode(t)
  const client = new KimuraClient(node.url)
  const missing = await apiError(t, client.block(99))
  t.deepEqual([missing.status, missing.code], [404, 'BLOCK_NOT_FOUND'])
  const unknown = await apiError(t, client.message('ab'.repeat(32)))
  t.deepEqual([unknown.status, unknown.code], [404, 'MESSAGE_NOT_FOUND'])
  const [pending] = await client.submit([new Sender(SENDER_SEED).sign('pending')])
  const notIncluded = await apiError(t, client.proof(pending))
  t.deepEqual([notIncluded.status, notIncluded.code], [404, 'MESSAGE_NOT_INCLUDED'])
  t.is((await client.message(pending)).height, null)
})

test('bad arguments are RangeErrors, before any request', async t => {
  const node = await startNode(t)
  const client = new KimuraClient(node.url)
  for (const id of ['ab', '../status', 'zz'.repeat(32), new Uint8Array(31)]) {
    await t.throwsAsync(client.message(id), { instanceOf: RangeError })
    await t.throwsAsync(client.proof(id), { instanceOf: RangeError })
  }
  for (const height of [-1, 1.5, Number.NaN, 2 ** 53]) await t.throwsAsync(client.block(height), { instanceOf: RangeError })
  await t.throwsAsync(client.blocks(0, 0), { instanceOf: RangeError })
  await t.throwsAsync(client.blocks(0, 101), { instanceOf: RangeError })
  t.throws(() => new KimuraClient('127.0.0.1:8080'), { instanceOf: TypeError })
})

test('transport failures: unreachable, no answer in time, not JSON, an error page that is not the API\'s', async t => {
  const unreachable = new KimuraClient('http://127.0.0.1:1')
  const down = await t.throwsAsync(unreachable.status())
  t.true(down instanceof KimuraTransportError)
  t.is((down as KimuraTransportError).code, 'UNREACHABLE')

  const hanging = new KimuraClient({ url: await rawServer(t, { status: 200, body: '', hang: true }), timeoutMs: 200 })
  const late = await t.throwsAsync(hanging.status())
  t.is((late as KimuraTransportError).code, 'REQUEST_TIMEOUT')

  const notJson = await t.throwsAsync(new KimuraClient(await rawServer(t, { status: 200, body: '<html>' })).status())
  t.is((notJson as KimuraTransportError).code, 'BAD_RESPONSE')

  const proxy = await apiError(t, new KimuraClient(await rawServer(t, { status: 502, body: 'Bad Gateway' })).status())
  t.deepEqual([proxy.status, proxy.code, proxy.message], [502, 'HTTP_502', 'Bad Gateway'])

  const controller = new AbortController()
  const aborted = hanging.status({ signal: controller.signal })
  controller.abort(new Error('user abort'))
  await t.throwsAsync(aborted, { message: 'user abort' })
})

test('waitForInclusion: heights in the order asked, a block\'s ids settling all it holds', async t => {
  const node = await startNode(t, 1)
  const client = new KimuraClient(node.url)
  const sender = new Sender(SENDER_SEED)
  const first = await client.submit(Array.from({ length: 50 }, (_, i) => sender.sign(`a${i}`)))
  const second = await client.submit(Array.from({ length: 5 }, (_, i) => sender.sign(`b${i}`)))
  const requests: string[] = []
  const watching = new KimuraClient({ url: node.url, fetch: async (input, init) => { requests.push(input); return await fetch(input, init) } })
  const waiting = watching.waitForInclusion([...second, ...first], { pollMs: 20, timeoutMs: 10_000 })
  await new Promise(resolve => setTimeout(resolve, 100))
  node.produce([...node.pending.values()].slice(0, 50))
  await new Promise(resolve => setTimeout(resolve, 100))
  node.produce()
  const inclusions = await waiting
  t.deepEqual(inclusions.map(i => i.id), [...second, ...first])
  t.true(inclusions.slice(0, 5).every(i => i.height === 3))
  t.true(inclusions.slice(5).every(i => i.height === 2))
  // Two blocks settle 55 messages: a few requests per block, not one per message.
  t.true(requests.length < 30, `${requests.length} requests: ${requests.join(' ')}`)
})

test('waitForInclusion times out naming what is included and what is not', async t => {
  const node = await startNode(t, 0)
  const client = new KimuraClient(node.url)
  const sender = new Sender(SENDER_SEED)
  const [included] = await client.submit([sender.sign('in')])
  node.produce()
  const [pending] = await client.submit([sender.sign('out')])
  const error = await t.throwsAsync(client.waitForInclusion([included, pending], { timeoutMs: 300, pollMs: 50 }))
  t.true(error instanceof KimuraTimeoutError)
  if (error instanceof KimuraTimeoutError) {
    t.is(error.code, 'INCLUSION_TIMEOUT')
    t.deepEqual(error.included, [{ id: included, height: 1 }])
    t.deepEqual(error.pending, [pending])
  }
})
