// GET /v1/blocks?from&limit (SPEC 8), the version in /v1/status, and the explorer page at /,
// against a real leader process.
import test from 'ava'
import { readFileSync } from 'node:fs'
import type { BlockJson } from '../../../src/shared/json.js'
import { getBlock, request, type ErrorJson } from '../../helpers/api-client.js'
import { startLeader } from '../../helpers/node-process.js'

interface BlocksJson { blocks: BlockJson[] }

test('block ranges: from h upwards, at most limit (20 by default, 1 to 100), [] above the tip, 400 when malformed', async t => {
  const leader = await startLeader(t, 50)
  await leader.waitForHeight(25)

  const three = await request<BlocksJson>(leader, '/v1/blocks?from=1&limit=3')
  t.is(three.status, 200)
  t.regex(three.contentType, /^application\/json/)
  t.deepEqual(three.body.blocks.map(b => b.header.height), [1, 2, 3])
  for (const block of three.body.blocks) {
    t.false('messages' in block, 'block JSON without messages')
    t.deepEqual(block, await getBlock(leader, block.header.height))
  }

  const byDefault = await request<BlocksJson>(leader, '/v1/blocks?from=0')
  t.deepEqual(byDefault.body.blocks.map(b => b.header.height), Array.from({ length: 20 }, (_, i) => i))
  t.is((await getBlock(leader, 0))?.hash, byDefault.body.blocks[0].hash, 'genesis is a stored block')

  const tip = await leader.height()
  const page = await request<BlocksJson>(leader, '/v1/blocks?from=0&limit=100')
  const pageHeights = page.body.blocks.map(b => b.header.height)
  t.is(pageHeights.length, Math.min(100, pageHeights[pageHeights.length - 1] + 1))
  t.true(pageHeights.length >= Math.min(100, tip + 1))
  t.deepEqual(pageHeights, pageHeights.map((_, i) => i), 'consecutive from 0')
  for (let i = 1; i < page.body.blocks.length; i++) t.is(page.body.blocks[i].header.prevHash, page.body.blocks[i - 1].hash)

  // Near the tip: only what is stored, fewer than asked.
  const nearTip = await request<BlocksJson>(leader, `/v1/blocks?from=${tip - 1}&limit=100`)
  t.true(nearTip.body.blocks.length >= 2 && nearTip.body.blocks.length < 100)
  t.is(nearTip.body.blocks[0].header.height, tip - 1)

  for (const from of [tip + 1000, 2 ** 53 - 1]) {
    const above = await request<BlocksJson>(leader, `/v1/blocks?from=${from}&limit=5`)
    t.is(above.status, 200)
    t.deepEqual(above.body, { blocks: [] }, `from ${from}`)
  }

  const malformed: Array<[string, string]> = [
    ['', 'INVALID_HEIGHT'],
    ['?limit=5', 'INVALID_HEIGHT'],
    ['?from=-1', 'INVALID_HEIGHT'],
    ['?from=abc', 'INVALID_HEIGHT'],
    ['?from=1.5', 'INVALID_HEIGHT'],
    ['?from=1e3', 'INVALID_HEIGHT'],
    ['?from=9007199254740992', 'INVALID_HEIGHT'],
    ['?from=1&limit=0', 'INVALID_LIMIT'],
    ['?from=1&limit=101', 'INVALID_LIMIT'],
    ['?from=1&limit=-1', 'INVALID_LIMIT'],
    ['?from=1&limit=ten', 'INVALID_LIMIT'],
    ['?from=1&limit=', 'INVALID_LIMIT']
  ]
  for (const [query, code] of malformed) {
    const answer = await request<ErrorJson>(leader, `/v1/blocks${query}`)
    t.is(answer.status, 400, query)
    t.is(answer.body.error.code, code, query)
  }
  t.is((await request<BlocksJson>(leader, '/v1/blocks?from=1&limit=100')).status, 200, 'limit 100 is allowed')
  t.is((await request<BlocksJson>(leader, '/v1/blocks?from=1&limit=1')).body.blocks.length, 1)
})

test('/v1/status reports the version of package.json', async t => {
  const leader = await startLeader(t, 1000)
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
  t.is((await leader.status()).version, pkg.version)
})

test('GET / serves the explorer page and its assets from dist, with an etag (304 when unchanged)', async t => {
  const leader = await startLeader(t, 1000)
  const page = await request(leader, '/')
  t.is(page.status, 200)
  t.regex(page.contentType, /^text\/html/)
  const assets = [...page.text.matchAll(/(?:src|href)="(\/explorer\/[^"]+)"/g)].map(m => m[1])
  t.true(assets.some(a => a.endsWith('.js')) && assets.some(a => a.endsWith('.css')), `the page links its script and style: ${assets.join(', ')}`)
  for (const asset of assets) {
    const res = await fetch(`${leader.api}${asset}`)
    t.is(res.status, 200, asset)
    const etag = res.headers.get('etag')
    t.truthy(etag)
    await res.arrayBuffer()
    const again = await fetch(`${leader.api}${asset}`, { headers: { 'if-none-match': etag ?? '' } })
    t.is(again.status, 304, `${asset} revalidated`)
  }
  t.false(/https?:\/\//.test(page.text), 'nothing loads from another origin (works offline)')
  t.is((await request<ErrorJson>(leader, '/explorer/nothing.js')).status, 404)
})
