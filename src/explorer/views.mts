// The explorer's views: home (the tip, charts of the last 100 blocks, the latest blocks), a
// block with its messages, and a message with its inclusion proof, verified here in the
// browser by kimura/client's verifyInclusion against the pinned leader key.
import { KimuraApiError, verifyInclusion, type BlockJson, type KimuraClient, type StatusJson } from 'kimura/client'
import { barChart } from './charts.mjs'
import { ago, contentText, count, el, fill, formatTime, short } from './dom.mjs'
import { formatRoute, type View } from './route.mjs'

export interface ExplorerState {
  client: KimuraClient
  status: StatusJson | undefined
  /** The last blocks (up to 100), in height order. */
  recent: BlockJson[]
  /** When each block came in live, by height (Date.now()). */
  arrivedAt: Map<number, number>
  /** The leader key the user pinned, lowercase hex. */
  pinnedKey: string | undefined
}

/** Messages listed per page of a block. */
const PAGE = 100

export function link (state: ExplorerState, view: View, ...text: Array<Node | string | number>): HTMLAnchorElement {
  return el('a', { href: formatRoute(view, state.pinnedKey) }, ...text)
}

export function renderHome (state: ExplorerState): HTMLElement {
  const tip = state.recent[state.recent.length - 1]
  const view = el('div', { id: 'home-view' })
  if (tip === undefined) {
    view.append(el('p', {}, 'Loading the chain…'))
    return view
  }
  const arrived = state.arrivedAt.get(tip.header.height)
  view.append(el('section', { class: 'tip card', id: 'tip' },
    el('div', { class: 'label' }, 'Tip'),
    el('div', { class: 'big' }, link(state, { name: 'block', height: tip.header.height }, el('span', { id: 'tip-height' }, tip.header.height))),
    el('div', { class: 'mono', id: 'tip-hash', title: tip.hash }, tip.hash),
    el('div', { class: 'meta', id: 'tip-meta' },
      count(tip.messageIds.length, 'message'), ' · ',
      el('time', { datetime: new Date(tip.header.timestamp).toISOString(), title: formatTime(tip.header.timestamp), 'data-ago': tip.header.timestamp }, ago(tip.header.timestamp)),
      arrived === undefined ? '' : ` · arrived ${Math.max(0, arrived - tip.header.timestamp)} ms after its timestamp`)))

  const blocks = state.recent
  // Genesis has timestamp 0: the gap after it is no interval.
  const timed = blocks.filter(b => b.header.height > 0)
  const intervals = timed.slice(1).map((b, i) => b.header.timestamp - timed[i].header.timestamp)
  view.append(el('section', { class: 'charts', id: 'charts' },
    barChart(blocks.map(b => b.messageIds.length), {
      id: 'chart-messages',
      title: `Messages per block (last ${blocks.length})`,
      format: v => count(Math.round(v), 'message'),
      label: i => `block ${blocks[i].header.height}`
    }),
    barChart(intervals, {
      id: 'chart-interval',
      title: `Block interval (last ${intervals.length})`,
      format: v => `${Math.round(v).toLocaleString('en')} ms`,
      label: i => `block ${timed[i + 1].header.height}`
    })))

  const rows = blocks.slice(-20).reverse().map(b => el('tr', {},
    el('td', {}, link(state, { name: 'block', height: b.header.height }, b.header.height)),
    el('td', { title: formatTime(b.header.timestamp) }, el('time', { 'data-ago': b.header.timestamp }, ago(b.header.timestamp))),
    el('td', { class: 'num' }, b.messageIds.length.toLocaleString('en')),
    el('td', { class: 'mono', title: b.hash }, short(b.hash, 16))))
  view.append(el('section', { class: 'card' },
    el('h2', {}, 'Latest blocks'),
    el('table', { id: 'latest' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Height'), el('th', {}, 'Time'), el('th', { class: 'num' }, 'Messages'), el('th', {}, 'Hash'))),
      el('tbody', {}, ...rows))))
  return view
}

export async function renderBlock (state: ExplorerState, height: number, into: HTMLElement): Promise<void> {
  let block: BlockJson
  try {
    block = await state.client.block(height, { messages: true })
  } catch (err) {
    if (err instanceof KimuraApiError && err.status === 404) {
      fill(into, el('div', { id: 'block-view' }, el('h2', {}, `Block ${height}`), el('p', { class: 'notice' }, `No block is stored at height ${height}`, state.status === undefined ? '' : ` (the tip is ${state.status.height})`, '.')))
      return
    }
    throw err
  }
  const h = block.header
  const messages = block.messages ?? []
  const list = el('tbody', {})
  const more = el('p', {})
  let shown = 0
  const showMore = (): void => {
    const end = Math.min(messages.length, shown + PAGE)
    for (let i = shown; i < end; i++) {
      const m = messages[i]
      const content = contentText(m.content)
      list.append(el('tr', {},
        el('td', { class: 'num' }, i),
        el('td', { class: 'mono' }, link(state, { name: 'message', id: block.messageIds[i] }, short(block.messageIds[i], 16))),
        el('td', { class: 'mono', title: m.sender }, short(m.sender)),
        el('td', { class: 'num' }, m.nonce),
        el('td', { class: content.kind === 'hex' ? 'mono content' : 'content' }, content.text.length > 80 ? `${content.text.slice(0, 80)}…` : content.text)))
    }
    shown = end
    fill(more, shown < messages.length ? el('button', { type: 'button', onclick: showMore }, `Show ${Math.min(PAGE, messages.length - shown)} more of ${messages.length - shown}`) : '')
  }
  showMore()
  fill(into, el('div', { id: 'block-view' },
    el('nav', { class: 'pager' },
      h.height > 0 ? link(state, { name: 'block', height: h.height - 1 }, '← ', h.height - 1) : '',
      link(state, { name: 'block', height: h.height + 1 }, h.height + 1, ' →')),
    el('h2', {}, `Block ${h.height}`),
    el('table', { class: 'fields' }, el('tbody', {},
      field('Hash', block.hash),
      field('Time', `${formatTime(h.timestamp)} (${h.timestamp})`),
      field('Previous', h.height > 0 ? link(state, { name: 'block', height: h.height - 1 }, h.prevHash) : h.prevHash),
      field('Message root', h.messageRoot),
      field('Proposer', h.proposer),
      field('Signature', h.signature),
      field('Messages', messages.length.toLocaleString('en')))),
    el('section', { class: 'card' },
      el('h3', {}, count(messages.length, 'message')),
      messages.length === 0
        ? el('p', {}, 'An empty block: the leader builds one every interval, with or without messages.')
        : el('table', { id: 'block-messages' },
          el('thead', {}, el('tr', {}, el('th', { class: 'num' }, '#'), el('th', {}, 'Id'), el('th', {}, 'Sender'), el('th', { class: 'num' }, 'Nonce'), el('th', {}, 'Content'))),
          list),
      more)))
}

function field (name: string, value: Node | string): HTMLTableRowElement {
  return el('tr', {}, el('th', {}, name), el('td', { class: 'mono' }, value))
}

export async function renderMessage (state: ExplorerState, id: string, into: HTMLElement): Promise<void> {
  let found
  try {
    found = await state.client.message(id)
  } catch (err) {
    if (err instanceof KimuraApiError && err.status === 404) {
      fill(into, el('div', { id: 'message-view' }, el('h2', {}, 'Message'), el('p', { class: 'notice' }, `This node knows no message ${id}.`)))
      return
    }
    throw err
  }
  const m = found.message
  const content = contentText(m.content)
  const proofSection = el('section', { class: 'card', id: 'proof' }, el('h3', {}, 'Inclusion proof'))
  fill(into, el('div', { id: 'message-view' },
    el('h2', {}, 'Message'),
    el('table', { class: 'fields' }, el('tbody', {},
      field('Id', id),
      field('Block', found.height === null ? 'pending: in no block yet' : link(state, { name: 'block', height: found.height }, found.height)),
      field('Sender', m.sender),
      field('Time', `${formatTime(m.timestamp)} (${m.timestamp})`),
      field('Nonce', String(m.nonce)),
      field('Content', el('span', { class: content.kind === 'hex' ? 'mono content' : 'content' }, content.text)),
      field('Signature', m.signature))),
    proofSection))
  if (found.height === null) {
    proofSection.append(el('p', { class: 'notice', id: 'proof-verdict' }, 'The message is pending: it has no proof until a block includes it.'))
    return
  }
  const [proof, block] = await Promise.all([state.client.proof(id), state.client.block(found.height)])
  const reported = state.status?.leaderKey
  const key = state.pinnedKey ?? reported
  if (key === undefined) {
    proofSection.append(el('p', { class: 'bad', id: 'proof-verdict' }, 'No leader key to check against: pin one above.'))
    return
  }
  const verdict = verifyInclusion(proof, id, block.header, key)
  const keyNote = state.pinnedKey !== undefined
    ? ['against the leader key you pinned, ', el('span', { class: 'mono' }, short(key, 12)), '.']
    : ['against the key this node reports, ', el('span', { class: 'mono' }, short(key, 12)), '. That only shows that the node agrees with itself: pin the leader key you trust (from the network\'s configuration) to check the chain.']
  proofSection.append(verdict.ok
    ? el('p', { class: state.pinnedKey !== undefined ? 'ok' : 'warn', id: 'proof-verdict', 'data-verified': 'true' },
      '✔ Verified in this browser: the audit path leads from the id to the block\'s message root, the header hashes to the block hash, and its signature verifies ', ...keyNote)
    : el('p', { class: 'bad', id: 'proof-verdict', 'data-verified': 'false' }, `✘ Not verified (${verdict.code}): ${verdict.reason}. Checked `, ...keyNote))
  proofSection.append(el('table', { class: 'fields' }, el('tbody', {},
    field('Leaf', `${proof.index} of ${proof.count}`),
    field('Block hash', proof.blockHash),
    field('Message root', proof.messageRoot),
    field('Audit path', proof.path.length === 0 ? '(empty: the only message of its block)' : el('ol', { class: 'path' }, ...proof.path.map(p => el('li', {}, p)))))))
}
