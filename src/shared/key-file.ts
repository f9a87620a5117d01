// The leader's signing key file: the 32-byte Ed25519 seed as hex, created with mode 0600.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fromHex, toHex } from './bytes.js'
import { KimuraError } from './errors.js'
import { signingKeyFromSeed, type SigningKey } from './keys.js'

export function loadSigningKey (path: string): SigningKey {
  let text: string
  try {
    text = readFileSync(path, 'utf8').trim()
  } catch (err) {
    throw new KimuraError('ERR_KEY_FILE', `cannot read the key file ${path}`, { path }, { cause: err })
  }
  const seed = fromHex(text, 32)
  if (seed === undefined) throw new KimuraError('ERR_KEY_FILE', `the key file ${path} does not hold a 32-byte hex seed`, { path })
  return signingKeyFromSeed(seed)
}

/** Loads the key at `path`, creating it first when the file does not exist. */
export function loadOrCreateSigningKey (path: string): { key: SigningKey, created: boolean } {
  if (existsSync(path)) return { key: loadSigningKey(path), created: false }
  mkdirSync(dirname(path), { recursive: true })
  const seed = randomBytes(32)
  try {
    // 'wx': never overwrite a key that appeared meanwhile.
    writeFileSync(path, toHex(seed) + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    throw new KimuraError('ERR_KEY_FILE', `cannot create the key file ${path}`, { path }, { cause: err })
  }
  return { key: signingKeyFromSeed(seed), created: true }
}
