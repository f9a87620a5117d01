// A fresh directory under the OS temp dir for one test, removed when the test ends. Register it
// before anything that lives in it: ava runs teardowns in reverse order, so stores and pools
// registered later are closed before the directory goes.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'

export function tempDir (t: ExecutionContext, prefix = 'kimura-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}
