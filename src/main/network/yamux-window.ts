// When a Yamux stream grants its sender more receive window (SPEC 5 runs every stream over
// Yamux). @libp2p/yamux 8 sends a WINDOW_UPDATE after every data frame it reads, so each gossip
// frame a node receives costs a second frame back: 12 bytes of Yamux, 18 of Noise, two socket
// writes on this side, a read, a decryption and a decode on the other: a third of the samples
// of the receive path in a profile of a peer (its effect shows under load; an idle node's CPU
// goes elsewhere). go-yamux and rust-yamux grant credit only once half of the window has been
// read, which the Yamux spec leaves to the receiver; this applies that rule to @libp2p/yamux.
//
// Why it is safe: the sender may send while its credit, which equals this side's
// recvWindowCapacity less the bytes in flight, is above zero. Skipping the update only while
// more than half of the window is still available leaves the sender at least half a window
// (128 KiB at first) to send before the update arrives, so a stream never stalls on it. The
// update itself is @libp2p/yamux's own, and every update that carries a flag (the ACK that
// opens a stream) is sent at once. The library doubles the window (up to 16 MiB) when an
// update is due within 4 round trips of the last one; that check now runs once per half
// window instead of on every frame, so a busy stream's window grows later than before.
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'

/** The private fields of @libp2p/yamux 8's YamuxStream this rule reads. */
interface StreamWindow {
  state: StreamState
  recvWindow: unknown
  recvWindowCapacity: unknown
}

let installed = false

/**
 * Makes every Yamux stream in this process send a window update only when half of its
 * receive window has been read (or when the update carries a flag). Idempotent. Returns
 * false when @libp2p/yamux no longer has the method this wraps (a major version changed it);
 * streams then keep the library's own behaviour.
 */
export function installYamuxWindowRule (): boolean {
  if (installed) return true
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate?: unknown }
  const original = proto.sendWindowUpdate
  if (typeof original !== 'function') return false
  const sendWindowUpdate = original as (this: YamuxStream) => void
  proto.sendWindowUpdate = function (this: YamuxStream): void {
    if (!updateCanWait(this as unknown as StreamWindow)) sendWindowUpdate.call(this)
  }
  installed = true
  return true
}

/**
 * True when the update would carry no flag and the sender still has more than half of the
 * window to send. Unknown field types (another library version) never wait.
 */
function updateCanWait (stream: StreamWindow): boolean {
  const { state, recvWindow, recvWindowCapacity } = stream
  if (state !== StreamState.Established && state !== StreamState.Finished) return false
  if (typeof recvWindow !== 'number' || typeof recvWindowCapacity !== 'number') return false
  return recvWindowCapacity > recvWindow / 2
}
