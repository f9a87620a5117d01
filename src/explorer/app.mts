// Kimura's block explorer, served by the node at `/`. No framework: a few views drawn from
// the node's API (SPEC 8) through kimura/client, the tip followed live on the event stream,
// and inclusion proofs verified here in the browser against a leader key the user pins.
import { isStrictPublicKey, KimuraClient, fromHex, type BlockJson } from 'kimura/client'
import { ago, el, fill, short } from './dom.mjs'
import { formatRoute, parseRoute, type Route } from './route.mjs'
import { renderBlock, renderHome, renderMessage, type ExplorerState } from './views.mjs'

/** The blocks kept for the charts. */
const RECENT = 100
const STATUS_EVERY_MS = 5_000

const state: ExplorerState = {
  client: new KimuraClient({ url: location.origin }),
  status: undefined,
  recent: [],
  arrivedAt: new Map(),
  pinnedKey: undefined
}
let route: Route = parseRoute(location.hash)

const $ = <T extends HTMLElement>(id: string): T => {
  const node = document.getElementById(id)
  if (node === null) throw new Error(`the page has no #${id}`)
  return node as T
}
const view = $('view')
const errorBox = $('error')

function showError (err: unknown): void {
  fill(errorBox, err instanceof Error ? err.message : String(err))
  errorBox.hidden = false
}

function setLive (text: string, live: boolean): void {
  const node = $('live')
  node.textContent = text
  node.className = live ? 'live on' : 'live'
}

// ---- The node's role, peers and key ----

function renderNode (): void {
  const s = state.status
  if (s === undefined) return
  fill($('node'),
    el('span', {}, 'Role ', el('strong', { id: 'node-role' }, s.role)),
    el('span', {}, 'Peers ', el('strong', { id: 'node-peers' }, s.peers)),
    el('span', {}, 'Height ', el('strong', {}, s.height)),
    s.role === 'leader' ? el('span', {}, 'Pending ', el('strong', {}, s.pending.toLocaleString('en'))) : '',
    el('span', { title: s.peerId }, 'Peer id ', el('strong', { class: 'mono' }, short(s.peerId, 10))),
    s.version === undefined ? '' : el('span', {}, 'Version ', el('strong', {}, s.version)))
  renderKeyNote()
}

function renderKeyNote (): void {
  const reported = state.status?.leaderKey
  const note = $('key-note')
  if (state.pinnedKey === undefined) {
    fill(note, 'No key pinned: proofs are checked against the key this node reports',
      reported === undefined ? '' : el('span', { class: 'mono' }, ` (${short(reported, 12)})`),
      ', which only shows that the node agrees with itself.')
    note.className = 'warn'
  } else if (reported !== undefined && reported !== state.pinnedKey) {
    fill(note, 'Pinned. This node reports another leader key (', el('span', { class: 'mono' }, short(reported, 12)), '): its proofs will not verify.')
    note.className = 'bad'
  } else {
    fill(note, 'Pinned: proofs are checked against this key.')
    note.className = 'ok'
  }
}

async function refreshStatus (): Promise<void> {
  try {
    state.status = await state.client.status()
    renderNode()
  } catch (err) {
    setLive('node unreachable', false)
    void err
  }
}

// ---- Views ----

let drawing = 0
async function draw (): Promise<void> {
  const mine = ++drawing
  errorBox.hidden = true
  const v = route.view
  try {
    if (v.name === 'home') fill(view, renderHome(state))
    else if (v.name === 'block') {
      fill(view, el('p', {}, `Loading block ${v.height}…`))
      await renderBlock(state, v.height, view)
    } else if (v.name === 'message') {
      fill(view, el('p', {}, 'Loading the message and its proof…'))
      await renderMessage(state, v.id, view)
    } else fill(view, el('p', { class: 'notice' }, `Nothing here (${v.path}).`))
  } catch (err) {
    if (mine === drawing) showError(err)
  }
}

function navigate (next: Route): void {
  location.hash = formatRoute(next.view, next.key)
}

window.addEventListener('hashchange', () => {
  route = parseRoute(location.hash)
  applyKey()
  void draw()
})

function applyKey (): void {
  const key = route.key?.toLowerCase()
  const input = $<HTMLInputElement>('key-input')
  if (key !== undefined && !validKey(key)) {
    showError(`The key in the address is not an Ed25519 public key (64 hex characters): ${key}`)
    state.pinnedKey = undefined
  } else {
    state.pinnedKey = key
  }
  if (document.activeElement !== input) input.value = state.pinnedKey ?? ''
  $('key-unpin').hidden = state.pinnedKey === undefined
  renderKeyNote()
}

function validKey (hex: string): boolean {
  const bytes = fromHex(hex, 32)
  return bytes !== undefined && isStrictPublicKey(bytes)
}

$('search').addEventListener('submit', event => {
  event.preventDefault()
  const text = $<HTMLInputElement>('search-input').value.trim().replace(/^#/, '')
  if (/^\d{1,16}$/.test(text)) navigate({ view: { name: 'block', height: Number(text) }, key: state.pinnedKey })
  else if (/^[0-9a-fA-F]{64}$/.test(text)) navigate({ view: { name: 'message', id: text.toLowerCase() }, key: state.pinnedKey })
  else showError('Search for a block height (a number) or a message id (64 hex characters).')
})

$('key-form').addEventListener('submit', event => {
  event.preventDefault()
  const key = $<HTMLInputElement>('key-input').value.trim().toLowerCase()
  if (key !== '' && !validKey(key)) {
    showError('A leader key is an Ed25519 public key: 64 hex characters (the leader prints it on start).')
    return
  }
  navigate({ view: route.view, key: key === '' ? undefined : key })
})

$('key-unpin').addEventListener('click', () => { navigate({ view: route.view, key: undefined }) })

// ---- The chain, live ----

function addBlock (block: BlockJson, live: boolean): void {
  const last = state.recent[state.recent.length - 1]
  if (last !== undefined && block.header.height <= last.header.height) return
  state.recent.push(block)
  if (live) state.arrivedAt.set(block.header.height, Date.now())
  while (state.recent.length > RECENT) {
    const gone = state.recent.shift()
    if (gone !== undefined) state.arrivedAt.delete(gone.header.height)
  }
}

async function follow (from: number): Promise<void> {
  for (;;) {
    try {
      for await (const block of state.client.events({ from, onReconnect: info => { if (info.reason === 'error') setLive('reconnecting…', false) } })) {
        addBlock(block, true)
        setLive('live', true)
        if (route.view.name === 'home') fill(view, renderHome(state))
        if (state.status !== undefined && block.header.height > state.status.height) {
          state.status = { ...state.status, height: block.header.height }
          renderNode()
        }
        from = block.header.height + 1
      }
    } catch (err) {
      setLive('stream refused: retrying', false)
      void err
      await new Promise(resolve => setTimeout(resolve, 5_000))
    }
  }
}

async function start (): Promise<void> {
  applyKey()
  setLive('connecting…', false)
  await refreshStatus()
  void draw()
  const tip = state.status?.height ?? 0
  const from = Math.max(0, tip - RECENT + 1)
  try {
    for (const block of await state.client.blocks(from, RECENT)) addBlock(block, false)
  } catch (err) {
    showError(err)
  }
  if (route.view.name === 'home') void draw()
  const last = state.recent[state.recent.length - 1]
  setLive('waiting for the next block…', true)
  void follow(last === undefined ? 0 : last.header.height + 1)
  setInterval(() => { void refreshStatus() }, STATUS_EVERY_MS)
  // "3 s ago" stays true.
  setInterval(() => {
    for (const node of document.querySelectorAll<HTMLElement>('[data-ago]')) node.textContent = ago(Number(node.dataset.ago))
  }, 1_000)
}

void start()
