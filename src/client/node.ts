// kimura/client/node: a Sender's key in a file, for Node only (the browser entry never imports
// this). The file is the one `kimura submit --key` uses: the 32-byte seed as hex, mode 0600,
// written durably, refused when group or others can read it.
import { existsSync } from 'node:fs'
import { createPrivateKeyFile, readPrivateKeyFile } from '../shared/key-file.js'
import { KimuraError } from '../shared/errors.js'
import { fromHex, toHex } from './hex.js'
import { Sender, type SenderOptions } from './sender.js'

/** The sender whose seed `path` holds; ERR_KEY_FILE when it cannot be read, is not private, or holds no seed. */
export function loadSender (path: string, options: SenderOptions = {}): Sender {
  const seed = fromHex(readPrivateKeyFile(path).toString('utf8').trim(), 32)
  if (seed === undefined) throw new KimuraError('ERR_KEY_FILE', `the key file ${path} does not hold a 32-byte hex seed`, { path })
  return new Sender(seed, options)
}

/** Writes the sender's seed to a new file at `path` (mode 0600); false, writing nothing, when the file exists. */
export function saveSender (path: string, sender: Sender): boolean {
  return createPrivateKeyFile(path, new TextEncoder().encode(`${toHex(sender.exportSeed())}\n`))
}

/** The sender of `path`, created with a new random key when the file does not exist. */
export function loadOrCreateSender (path: string, options: SenderOptions = {}): { sender: Sender, created: boolean } {
  if (!existsSync(path)) {
    const sender = Sender.random(options)
    // false: another process created the file meanwhile; its key is the one to use.
    if (saveSender(path, sender)) return { sender, created: true }
  }
  return { sender: loadSender(path, options), created: false }
}
