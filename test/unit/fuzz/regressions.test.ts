// Every input a fuzz target ever failed on (test/fuzz/regressions/*.json, saved by
// `npm run fuzz`) is replayed against its target's property: it must hold now.
import '../../../src/shared/polyfill.js'
import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import test from 'ava'
import { findTarget } from '../../fuzz/targets/index.js'

interface SavedFinding {
  target: string
  error: string
  input: unknown
}

const dir = resolve(process.cwd(), 'test/fuzz/regressions')

for (const file of readdirSync(dir).filter(f => f.endsWith('.json')).sort()) {
  const saved = JSON.parse(readFileSync(resolve(dir, file), 'utf8')) as SavedFinding
  test(`fuzz regression ${file} (once: ${saved.error.slice(0, 120)})`, async t => {
    const target = findTarget(saved.target)
    if (target === undefined) return t.fail(`no fuzz target named ${saved.target}`)
    await t.notThrowsAsync(target.replay(saved.input))
  })
}
