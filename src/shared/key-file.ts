// Key files (the leader's signing key, the sender key of `kimura submit`, the libp2p peer key):
// private to their owner, and durable once created. The signing key file holds the 32-byte
// Ed25519 seed as hex.
import { closeSync, existsSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'
import { fromHex, toHex } from './bytes.js'
import { errorCode, errorMessage, KimuraError } from './errors.js'
import { signingKeyFromSeed, type SigningKey } from './keys.js'

/** Permission bits that let group or others at a file. */
const SHARED_MODE_BITS = 0o077

/**
 * Refuses a key file that group or others may access, as ssh does: the key is the node's
 * identity, and a copy readable by another account is a copy that account can sign with.
 */
export function assertPrivateKeyFile (path: string, mode: number): void {
  if (process.platform === 'win32' || (mode & SHARED_MODE_BITS) === 0) return
  const octal = (mode & 0o777).toString(8).padStart(3, '0')
  throw new KimuraError('ERR_KEY_FILE', `the key file ${path} is accessible by group or others (mode 0${octal}); run chmod 600 ${path}`, { path, mode: mode & 0o777 })
}

/** Reads a key file after checking, on the open file, that it is private. */
export function readPrivateKeyFile (path: string): Buffer {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw new KimuraError('ERR_KEY_FILE', `cannot read the key file ${path}: ${errorMessage(err)}`, { path }, { cause: err })
  }
  try {
    assertPrivateKeyFile(path, fstatSync(fd).mode)
    return readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Creates `path` holding `bytes`, mode 0600, durably: written and fsync'd under a temporary
 * name, linked into place (which, unlike a rename, never replaces a key that appeared
 * meanwhile), then the directory fsync'd so that the new name survives a crash too. Returns
 * false, writing nothing, when `path` already exists.
 */
export function createPrivateKeyFile (path: string, bytes: Uint8Array): boolean {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    mkdirSync(dir, { recursive: true })
    const fd = openSync(tmp, 'wx', 0o600)
    try {
      writeSync(fd, bytes)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    try {
      linkSync(tmp, path)
    } catch (err) {
      if (errorCode(err) === 'EEXIST') return false
      throw err
    }
    fsyncDirectory(dir)
    return true
  } catch (err) {
    throw new KimuraError('ERR_KEY_FILE', `cannot create the key file ${path}: ${errorMessage(err)}`, { path }, { cause: err })
  } finally {
    rmSync(tmp, { force: true })
  }
}

function fsyncDirectory (dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export function loadSigningKey (path: string): SigningKey {
  const seed = fromHex(readPrivateKeyFile(path).toString('utf8').trim(), 32)
  if (seed === undefined) throw new KimuraError('ERR_KEY_FILE', `the key file ${path} does not hold a 32-byte hex seed`, { path })
  return signingKeyFromSeed(seed)
}

/** Loads the key at `path`, creating it first when the file does not exist. */
export function loadOrCreateSigningKey (path: string): { key: SigningKey, created: boolean } {
  if (!existsSync(path)) {
    const seed = randomBytes(32)
    // false: another process created the file meanwhile; its key is the one to use.
    if (createPrivateKeyFile(path, Buffer.from(toHex(seed) + '\n'))) return { key: signingKeyFromSeed(seed), created: true }
  }
  return { key: loadSigningKey(path), created: false }
}
