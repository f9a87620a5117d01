// The exit codes the README documents: 0 for --help and --version, 2 for any invalid option
// (unknown, malformed, or a value SPEC 1 refuses), with a message on stderr that names it.
import '../../../src/shared/polyfill.js'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import test from 'ava'
import { MAIN } from '../../helpers/node-process.js'

/** The identity point: a small-order public key (SPEC 1). */
const IDENTITY_KEY = '01' + '00'.repeat(31)
const HONEST_ADDR = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

function run (args: string[]): { code: number | null, stdout: string, stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KIMURA_')))
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000, env })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('--help and --version exit 0; --version prints the package version', t => {
  t.is(run(['--help']).code, 0)
  const version = run(['--version'])
  t.is(version.code, 0, version.stderr)
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
  t.is(version.stdout.trim(), pkg.version)
})

const invalid: Array<[string, string[], RegExp]> = [
  ['an unknown option', ['--bogus'], /unknown option '--bogus'/],
  ['a malformed block interval', ['--leader', '--block-interval-ms', 'soon'], /--block-interval-ms/],
  ['an unknown log format', ['--leader', '--log-format', 'xml'], /--log-format/],
  ['a leader key that is the identity point (small order)', ['--leader-addr', HONEST_ADDR, '--leader-key', IDENTITY_KEY], /--leader-key/],
  ['a peer id in --allow-peers that is not one', ['--leader', '--allow-peers', 'not-a-peer-id'], /--allow-peers/]
]

for (const [what, args, message] of invalid) {
  test(`${what} exits 2 and says why`, t => {
    const r = run(args)
    t.is(r.code, 2, `stderr: ${r.stderr}`)
    t.regex(r.stderr, message)
  })
}
