// The README's "Using Kimura from code" example, run as it is printed (with the node's URL, the
// leader's key and a key file path put in) against a real leader: it must work as shown.
import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import test from 'ava'
import { toHex } from '../../../src/client/index.js'
import { loadSigningKey } from '../../../src/shared/key-file.js'
import { startLeader, tempDir } from '../../helpers/node-process.js'

test('the README example submits, waits, verifies the proof and follows three blocks', async t => {
  const readme = readFileSync('README.md', 'utf8')
  const section = readme.slice(readme.indexOf('## Using Kimura from code'))
  const example = /```js\n([\s\S]*?)```/.exec(section)?.[1]
  if (example === undefined) return t.fail('no js example in the README section')
  const leader = await startLeader(t, 200)
  const key = toHex(loadSigningKey(join(leader.spec.dataDir, 'leader.key')).publicKey)
  const keyFile = join(tempDir(t), 'sender.key')
  const placeholders: Array<[RegExp, string]> = [
    [/'http:\/\/127\.0\.0\.1:8080'/, `'${leader.api}'`],
    [/const leaderKey = '[0-9a-f]{64}'/, `const leaderKey = '${key}'`],
    [/'\.\/kimura-sender\.key'/, `'${keyFile}'`]
  ]
  let source = example
  for (const [pattern, value] of placeholders) {
    t.regex(source, pattern, 'the example changed: update this test\'s placeholders')
    source = source.replace(pattern, value)
  }
  // Inside the package, so that `kimura/client` resolves through package.json's exports.
  const file = resolve('build', `readme-example-${process.pid}.mjs`)
  writeFileSync(file, source)
  t.teardown(() => { rmSync(file, { force: true }) })
  const run = await new Promise<{ code: number | null, stdout: string, stderr: string }>(done => {
    execFile(process.execPath, [file], { timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
  t.is(run.code, 0, run.stderr)
  const lines = run.stdout.trim().split('\n')
  t.is(lines.length, 3, run.stdout)
  const heights = lines.map(line => Number(line.split(' ')[0]))
  t.deepEqual(heights, [heights[0], heights[0] + 1, heights[0] + 2])
  t.regex(lines[0], /^\d+ [0-9a-f]{64} \d+$/)
})
