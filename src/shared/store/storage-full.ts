// A full disk, told apart from other write failures. LMDB reports it in three ways, measured on a
// full tmpfs under lmdb-js 3: ENOSPC (28) when a page write fails outright, EIO (5) when a write
// comes back short (mdb_page_flush has no better code for it), and MDB_MAP_FULL when the map
// cannot grow. The commit fails and the transaction is aborted, so nothing of it is written;
// once space returns, the next transaction succeeds.
import { statfsSync } from 'node:fs'
import { errorMessage, KimuraError } from '../errors.js'

const ENOSPC = 28
const EIO = 5
const EDQUOT = 122
const MDB_MAP_FULL = -30792

/**
 * Below this much free space an EIO is taken for a short write on a full disk, not a failing
 * device: one transaction writes at most about 45 MB, its blocks (one block, or a sync part of
 * at most 4 MiB and 10,000 messages, import-blocks.ts) and a 4 KiB page of the `messages`
 * index per message once the index is large.
 */
const SHORT_WRITE_FREE_BYTES = 64 * 1024 * 1024

/**
 * The least free space for opening a store: LMDB maps its lock file and writes through that
 * mapping, and a write to a mapped page the disk has no room for kills the process (SIGBUS).
 */
export const OPEN_FREE_BYTES = 1024 * 1024

/** Bytes available to this process on the file system holding `dir`; undefined when unknown. */
export function freeBytes (dir: string): number | undefined {
  try {
    const stats = statfsSync(dir)
    return stats.bavail * stats.bsize
  } catch {
    return undefined
  }
}

function isFullDiskError (err: unknown, dir: string): boolean {
  if (typeof err !== 'object' || err === null || !('code' in err)) return false
  const code = err.code
  if (code === ENOSPC || code === EDQUOT || code === MDB_MAP_FULL || code === 'ENOSPC' || code === 'EDQUOT') return true
  if (code === EIO || code === 'EIO') {
    const free = freeBytes(dir)
    return free !== undefined && free < SHORT_WRITE_FREE_BYTES
  }
  return false
}

/** `err` as ERR_STORAGE_FULL when it is a full disk under `dir`, else `err` itself. */
export function classifyWriteError (err: unknown, dir: string): unknown {
  if (err instanceof KimuraError || !isFullDiskError(err, dir)) return err
  return storageFull(dir, errorMessage(err), err)
}

export function storageFull (dir: string, why: string, cause?: unknown): KimuraError {
  const free = freeBytes(dir)
  return new KimuraError('ERR_STORAGE_FULL', `the disk holding ${dir} is full (${why}); nothing was written`, { dir, ...(free === undefined ? {} : { freeBytes: free }) }, { cause })
}
