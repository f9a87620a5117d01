// The node raises V8 11's TurboFan budget (Node 20) and nothing else: not on other V8s, not
// when the operator set it, and never a flag this V8 does not know.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { tieringFlags } from '../../../src/main/v8-tiering.js'

test('V8 11 gets four times its interrupt budget; other V8s and an operator\'s own budget are left alone', t => {
  t.deepEqual(tieringFlags('11.3.244.8-node.33', []), ['--interrupt-budget=270336'])
  t.deepEqual(tieringFlags('11.3.244.8-node.33', ['--max-old-space-size=512']), ['--interrupt-budget=270336'])
  for (const own of [['--interrupt-budget=1000'], ['--interrupt_budget=1000'], ['--interrupt-budget', '1000']]) {
    t.deepEqual(tieringFlags('11.3.244.8-node.33', own), [], own.join(' '))
  }
  t.deepEqual(tieringFlags('12.4.254.21-node.33', []), [])
  t.deepEqual(tieringFlags('13.6.233.17-node.41', []), [])
})

test('this Node\'s V8 accepts what the node sets: no "unrecognized flag" on start', t => {
  const module = fileURLToPath(new URL('../../../src/main/v8-tiering.js', import.meta.url))
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', `const { tuneV8Tiering } = await import(${JSON.stringify(module)}); console.log(JSON.stringify(tuneV8Tiering()))`], { encoding: 'utf8' })
  t.is(run.status, 0, run.stderr)
  t.is(run.stderr, '')
  t.deepEqual(JSON.parse(run.stdout), tieringFlags(process.versions.v8, []))
})
