// Screenshots of the explorer's main views for docs/ and the README: a leader and a peer on
// loopback with a few hundred messages, then the home view, a block, and a message with its
// proof verified against the pinned leader key. Run: npm run build && npm run build:dev &&
// node build/test/browser/screenshots.js [out-dir (docs)]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeProcess } from '../helpers/node-process.js'
import { getBlock, getMessage, Sender, submitOk } from '../helpers/api-client.js'
import { waitFor } from '../helpers/wait.js'
import { chromiumMissing, launchChromium } from './chromium.js'

async function main (): Promise<void> {
  const out = process.argv[2] ?? 'docs'
  const missing = chromiumMissing()
  if (missing !== undefined) throw new Error(missing)
  mkdirSync(out, { recursive: true })
  const dir = mkdtempSync(join(tmpdir(), 'kimura-shots-'))
  const leader = new NodeProcess({ leader: true, dataDir: join(dir, 'leader'), blockIntervalMs: 500, logLevel: 'info' })
  let peer: NodeProcess | undefined
  const browser = await launchChromium()
  try {
    await leader.start()
    const status = await leader.status()
    peer = new NodeProcess({ leader: false, dataDir: join(dir, 'peer'), blockIntervalMs: 500, leaderAddr: status.listen[0], leaderKey: status.leaderKey, logLevel: 'info', name: 'peer' })
    await peer.start()
    const senders = [new Sender(), new Sender(), new Sender()]
    const words = ['hello kimura', 'a payment of 12 tokens', 'sensor 7: 21.4 °C', 'order #5531 shipped', 'ping']
    let last: string[] = []
    for (let round = 0; round < 40; round++) {
      const sender = senders[round % senders.length]
      const n = 1 + Math.floor(Math.abs(Math.sin(round)) * 60)
      last = await submitOk(leader, Array.from({ length: n }, (_, i) => sender.message(new TextEncoder().encode(`${words[(round + i) % words.length]} (${round}.${i})`))))
      await new Promise(resolve => setTimeout(resolve, 250 + 200 * (round % 3)))
    }
    let height = 0
    await waitFor(async () => { height = (await getBlock(leader, 'latest'))?.header.height ?? 0; return (await peer?.height()) === height }, 20_000, 'the peer to catch up')
    const page = await browser.context.newPage()
    await page.goto(`${leader.api}/#key=${status.leaderKey}`)
    await page.waitForSelector('#chart-interval')
    await page.waitForFunction('document.querySelector("#live")?.textContent === "live"', undefined, { timeout: 10_000 })
    await page.screenshot({ path: join(out, 'explorer-home.png') })
    const blockHeight = (await getMessage(leader, last[0]))?.height ?? height
    await page.goto(`${leader.api}/#/block/${blockHeight}?key=${status.leaderKey}`)
    await page.waitForSelector('#block-view')
    await page.screenshot({ path: join(out, 'explorer-block.png') })
    await page.goto(`${leader.api}/#/message/${last[0]}?key=${status.leaderKey}`)
    await page.waitForSelector('#proof-verdict[data-verified]')
    await page.screenshot({ path: join(out, 'explorer-proof.png'), fullPage: true })
    process.stdout.write(`screenshots in ${out}: explorer-home.png, explorer-block.png, explorer-proof.png\n`)
  } finally {
    await browser.close()
    await peer?.kill()
    await leader.kill()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
