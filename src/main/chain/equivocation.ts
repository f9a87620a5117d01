// Equivocation (issue 11): two different blocks at one height, both signed by the leader, are
// proof that the leader (or a stale copy of it, restored from a backup) forked the chain. There
// is no fork choice in Kimura: a node that sees it keeps both blocks (its own in the store, the
// other as evidence in <db>/equivocation.json), counts kimura_equivocations_total, logs at
// fatal, and stops following (no import, no production) until an operator acts: they decide
// which chain is right, repair the nodes, and remove the evidence file before a restart.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytesEqual, toHex } from '../../shared/bytes.js'
import { decodeBlockHeader } from '../../shared/codec.js'
import { errorMessage } from '../../shared/errors.js'
import { blockHash } from '../../shared/hash.js'
import type { BlockHeader } from '../../shared/types.js'
import { verifyHeaderSignature } from '../../shared/validation.js'
import type { Logger } from '../logger.js'

export const EVIDENCE_FILE = 'equivocation.json'

export interface EquivocationGuardModules {
  /** This node's stored header at `height`, if it holds one. */
  storedHeader: (height: number) => BlockHeader | undefined
  /** The configured leader's public key: only blocks it signed are evidence. */
  leaderKey: Uint8Array
  logger: Logger
  onEquivocation: () => void
  /** Called once, when the node stops following. */
  onHalt: () => void
}

function headerJson (h: BlockHeader): Record<string, string | number> {
  return { height: h.height, timestamp: h.timestamp, prevHash: toHex(h.prevHash), messageRoot: toHex(h.messageRoot), proposer: toHex(h.proposer), signature: toHex(h.signature) }
}

export class EquivocationGuard {
  private haltedBy: string | undefined
  /**
   * Leader-signed status tips heard above this node's tip, one per source (its latest): each is
   * checked once this node's tip reaches its height (tipAdvanced). A status is asked once per
   * connection; without this, a peer whose tip was ahead when it connected and that then
   * stopped (having halted on the same fork itself) was never compared again.
   */
  private readonly tipsAhead = new Map<string, { header: BlockHeader, hash: Uint8Array }>()

  constructor (private readonly dataDir: string, private readonly modules: EquivocationGuardModules) {}

  /** Whether the node has stopped following: import and production refuse to run. */
  get halted (): boolean {
    return this.haltedBy !== undefined
  }

  /** A node restarted with evidence on disk stays halted: the operator has not acted yet. */
  start (): void {
    const path = join(this.dataDir, EVIDENCE_FILE)
    if (!existsSync(path)) return
    let height = '?'
    try {
      height = String((JSON.parse(readFileSync(path, 'utf8')) as { height?: unknown }).height)
    } catch {
      // An unreadable file is evidence all the same; the height is only for the log.
    }
    this.halt(`evidence of equivocation at height ${height} is on disk (${path})`, { path })
  }

  /**
   * `header` is leader-signed (its signature verified) and at or below this node's tip: if this
   * node stores a different block at that height, the leader equivocated.
   */
  checkAtOrBelowTip (header: BlockHeader, hash: Uint8Array, source: string, block?: Uint8Array): boolean {
    // Genesis is fixed by the protocol, not signed by the leader: a signed "block 0" is only an
    // invalid block, never a second leader-signed block at one height.
    if (header.height === 0) return false
    const ours = this.modules.storedHeader(header.height)
    if (ours === undefined || bytesEqual(blockHash(ours), hash)) return false
    this.record(header.height, ours, header, source, block)
    return true
  }

  /** A peer's verified status tip (leader-signed): checked now if this node holds its height, else once it does. */
  checkStatusTip (header: BlockHeader, hash: Uint8Array, source: string, tipHeight: number): void {
    if (header.height > tipHeight) {
      this.tipsAhead.set(source, { header, hash })
      return
    }
    this.tipsAhead.delete(source)
    this.checkAtOrBelowTip(header, hash, source)
  }

  /** This node's tip rose to `tipHeight`: the status tips heard above it that it now reaches are checked. */
  tipAdvanced (tipHeight: number): void {
    for (const [source, tip] of this.tipsAhead) {
      if (tip.header.height > tipHeight) continue
      this.tipsAhead.delete(source)
      this.checkAtOrBelowTip(tip.header, tip.hash, source)
    }
  }

  /**
   * `header` is leader-signed and `parent` is this node's block one below it (its tip, for a
   * gossiped block): if `header` links to another block, the leader signed two at that height.
   */
  checkParent (header: BlockHeader, parent: BlockHeader, source: string, block?: Uint8Array): boolean {
    if (bytesEqual(header.prevHash, blockHash(parent))) return false
    this.record(parent.height, parent, header, source, block)
    return true
  }

  /**
   * `block` was refused because its prevHash is not this node's block below it (a block from
   * sync, or one queued behind a gossiped parent). If the leader signed it, the leader signed
   * another block at the parent's height. Sync needs this: a node that followed one chain asks
   * the other chain's peer for tip+1.., and every gossiped block of that chain is more than one
   * above its tip, so neither gossip check would ever see the fork.
   */
  checkRefusedLink (block: Uint8Array, source: string): boolean {
    const shape = decodeBlockHeader(block)
    if (!shape.ok) return false
    const { header } = shape.value
    const parent = header.height > 0 ? this.modules.storedHeader(header.height - 1) : undefined
    if (parent === undefined || !verifyHeaderSignature(header, this.modules.leaderKey).ok) return false
    return this.checkParent(header, parent, source, block)
  }

  private record (height: number, ours: BlockHeader, theirs: BlockHeader, source: string, block?: Uint8Array): void {
    this.modules.onEquivocation()
    if (this.halted) return
    const path = join(this.dataDir, EVIDENCE_FILE)
    const evidence = {
      height,
      detectedAt: new Date().toISOString(),
      source,
      ours: { hash: toHex(blockHash(ours)), header: headerJson(ours) },
      theirs: { hash: toHex(blockHash(theirs)), header: headerJson(theirs), ...(block === undefined ? {} : { block: toHex(block) }) }
    }
    try {
      // 'wx': the first evidence is kept; a later one does not overwrite it.
      writeFileSync(path, JSON.stringify(evidence, null, 2) + '\n', { flag: 'wx', mode: 0o600 })
    } catch (err) {
      this.modules.logger.error({ path, err: errorMessage(err) }, 'could not write the equivocation evidence')
    }
    this.halt(`two leader-signed blocks at height ${height}: ours ${evidence.ours.hash}, and ${evidence.theirs.hash} from ${source}`, { path, ...evidence })
  }

  private halt (reason: string, details: Record<string, unknown>): void {
    if (this.halted) return
    this.haltedBy = reason
    this.modules.logger.fatal({ ...details, reason }, 'leader equivocation: this node stops following the chain until an operator acts (decide which chain is right, then remove the evidence file and restart)')
    this.modules.onHalt()
  }
}
