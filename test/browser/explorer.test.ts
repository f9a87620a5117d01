// The explorer in a real browser (Debian's chromium, driven by playwright-core) against a real
// leader: it shows each new tip within 1 s of its block, opens a block, finds a message by id
// and shows its proof verified in the page against the pinned key (and, unpinned, says that
// the node only agrees with itself). Skipped, with the reason, where chromium is not installed.
import test from 'ava'
import type { BlockJson } from '../../src/shared/json.js'
import { getBlock, Sender, submitOk } from '../helpers/api-client.js'
import { startLeader } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait.js'
import { chromiumMissing, launchChromium } from './chromium.js'

const missing = chromiumMissing()

test('the explorer: a live tip within 1 s, a block, a message found by id, its proof verified in the browser', async t => {
  if (missing !== undefined) {
    t.log(`skipped: ${missing}`)
    t.pass()
    return
  }
  t.timeout(120_000)
  const leader = await startLeader(t, 700)
  const { leaderKey } = await leader.status()
  const browser = await launchChromium()
  t.teardown(async () => { await browser.close() })
  const page = await browser.context.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', err => { pageErrors.push(err.message) })

  await page.goto(`${leader.api}/#key=${leaderKey}`)
  await page.waitForSelector('#tip-height')
  t.is(await page.textContent('#node-role'), 'leader')

  // The tip, live: each new block on the page within 1 s of its timestamp.
  for (let i = 0; i < 3; i++) {
    const shown = Number(await page.textContent('#tip-height'))
    const seen = await page.waitForFunction(`(() => {
      const h = Number(document.querySelector('#tip-height')?.textContent)
      return h > ${shown} ? [h, Date.now()] : false
    })()`, undefined, { polling: 20, timeout: 10_000 })
    const [height, at] = await seen.jsonValue() as [number, number]
    const block = await getBlock(leader, height)
    if (block === undefined) throw new Error(`no block ${height}`)
    t.true(at - block.header.timestamp < 1_000, `block ${height} shown ${at - block.header.timestamp} ms after its timestamp`)
    t.log(`block ${height} shown ${at - block.header.timestamp} ms after its timestamp`)
  }

  // A block with messages, opened from the latest blocks.
  const ids = await submitOk(leader, new Sender().messages(12, 24, 'explorer'))
  let included: BlockJson | undefined
  await waitFor(async () => {
    const latest = await getBlock(leader, 'latest')
    if (latest?.messageIds.includes(ids[0]) === true) included = latest
    return included !== undefined
  }, 15_000, 'the messages to be included')
  const height = included?.header.height ?? -1
  await page.click(`#latest a[href^="#/block/${height}"]`)
  await page.waitForSelector('#block-messages')
  t.is(await page.textContent('#block-view h2'), `Block ${height}`)
  t.is(await page.locator('#block-messages tbody tr').count(), 12)
  t.true((await page.textContent('#block-messages') ?? '').includes('explorer-'), 'message contents shown as text')

  // A message by id, through the search box; its proof verified against the pinned key.
  await page.fill('#search-input', ids[5])
  await page.press('#search-input', 'Enter')
  await page.waitForSelector('#proof-verdict[data-verified]')
  t.true((await page.textContent('#message-view') ?? '').includes(ids[5]))
  t.is(await page.getAttribute('#proof-verdict', 'data-verified'), 'true')
  t.regex(await page.textContent('#proof-verdict') ?? '', /Verified in this browser.*the leader key you pinned/)

  // Unpinned: still checked, against the node's own key, and the page says what that is worth.
  await page.click('#key-unpin')
  await page.waitForFunction('!location.hash.includes("key=")')
  await page.waitForSelector('#proof-verdict[data-verified]')
  t.regex(await page.textContent('#proof-verdict') ?? '', /the key this node reports.*agrees with itself/)

  // Pinned to another key: not verified.
  const otherKey = (await (await fetch(`${leader.api}/v1/blocks/1`)).json() as BlockJson).header.proposer === leaderKey ? new Sender().key.publicKey : undefined
  if (otherKey === undefined) throw new Error('block 1 is not the leader\'s')
  const other = Buffer.from(otherKey).toString('hex')
  await page.fill('#key-input', other)
  await page.press('#key-input', 'Enter')
  await page.waitForFunction(`location.hash.includes("key=${other}")`)
  await page.waitForSelector('#proof-verdict[data-verified="false"]')
  t.regex(await page.textContent('#proof-verdict') ?? '', /Not verified \(BAD_SIGNATURE\)/)

  // A height that does not exist yet, searched.
  await page.fill('#search-input', '99999999')
  await page.press('#search-input', 'Enter')
  await page.waitForSelector('#block-view .notice')
  t.deepEqual(pageErrors, [], 'no error in the page')
})
