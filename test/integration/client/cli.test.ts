// `kimura block`, `kimura prove` and `kimura follow` as users run them, against a real leader:
// what they print, their exit codes, and errors with the API's code.
import '../../../src/shared/polyfill.js'
import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import test from 'ava'
import { KimuraClient, Sender, toHex } from '../../../src/client/index.js'
import { loadSigningKey } from '../../../src/shared/key-file.js'
import { MAIN, startLeader, tempDir, type NodeProcess } from '../../helpers/node-process.js'
import { waitFor } from '../../helpers/wait.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

async function kimura (args: string[], timeoutMs = 30_000): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KIMURA_')))
  return await new Promise(resolve => {
    execFile(process.execPath, [MAIN, ...args], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}

const apiOf = (node: NodeProcess): string => `127.0.0.1:${node.apiPort}`

async function includedMessage (leader: NodeProcess): Promise<string> {
  const client = new KimuraClient(leader.api)
  const [id] = await client.submit([Sender.random().sign('proved')])
  await client.waitForInclusion([id], { timeoutMs: 20_000 })
  return id
}

test.serial('every new command has --help, and exits 0', async t => {
  for (const command of ['block', 'prove', 'follow', 'submit']) {
    const run = await kimura([command, '--help'])
    t.is(run.code, 0, run.stderr)
    t.regex(run.stdout, /--api/, `${command} --help`)
  }
  t.regex((await kimura(['prove', '--help'])).stdout, /--leader-key/)
  t.regex((await kimura(['follow', '--help'])).stdout, /--from/)
})

test.serial('block prints the block as JSON; a missing one prints BLOCK_NOT_FOUND and exits 1; a bad height exits 2', async t => {
  const leader = await startLeader(t, 200)
  const id = await includedMessage(leader)
  const height = (await new KimuraClient(leader.api).message(id)).height ?? -1
  const run = await kimura(['block', String(height), '--messages', '--api', apiOf(leader)])
  t.is(run.code, 0, run.stderr)
  const block = JSON.parse(run.stdout) as { header: { height: number }, messageIds: string[], messages: unknown[] }
  t.is(block.header.height, height)
  t.true(block.messageIds.includes(id))
  t.is(block.messages.length, block.messageIds.length)
  t.is((JSON.parse((await kimura(['block', 'latest', '--api', apiOf(leader)])).stdout) as { messages?: unknown }).messages, undefined)
  const missing = await kimura(['block', '999999', '--api', apiOf(leader)])
  t.is(missing.code, 1)
  t.regex(missing.stderr, /BLOCK_NOT_FOUND, HTTP 404/)
  t.is((await kimura(['block', 'tip', '--api', apiOf(leader)])).code, 2)
  const down = await kimura(['block', 'latest', '--api', '127.0.0.1:1'])
  t.is(down.code, 1)
  t.regex(down.stderr, /UNREACHABLE/)
})

test.serial('prove: verified against a pinned key, or against the node\'s own key with a warning; a wrong key exits 1', async t => {
  const leader = await startLeader(t, 200)
  const id = await includedMessage(leader)
  const key = toHex(loadSigningKey(join(leader.spec.dataDir, 'leader.key')).publicKey)

  const pinned = await kimura(['prove', id, '--leader-key', key, '--api', apiOf(leader)])
  t.is(pinned.code, 0, pinned.stderr)
  const proof = JSON.parse(pinned.stdout.slice(0, pinned.stdout.indexOf('\n}\n') + 2)) as { id: string, path: string[] }
  t.is(proof.id, id)
  t.regex(pinned.stdout, new RegExp(`leader key: ${key} \\(pinned with --leader-key\\)`))
  t.regex(pinned.stdout, /^verified: message [0-9a-f]{64} is in block \d+/m)
  t.notRegex(pinned.stderr, /agrees with itself/)

  const reported = await kimura(['prove', id, '--api', apiOf(leader)])
  t.is(reported.code, 0, reported.stderr)
  t.regex(reported.stdout, /\(reported by the node, not pinned\)/)
  t.regex(reported.stderr, /only that the node agrees with itself/)

  const wrong = await kimura(['prove', id, '--leader-key', Sender.random().publicKeyHex, '--api', apiOf(leader)])
  t.is(wrong.code, 1)
  t.regex(wrong.stdout, /^verified: no$/m)
  t.regex(wrong.stderr, /does not verify: .*\(BAD_SIGNATURE\)/)

  const unknown = await kimura(['prove', 'ab'.repeat(32), '--api', apiOf(leader)])
  t.is(unknown.code, 1)
  t.regex(unknown.stderr, /MESSAGE_NOT_FOUND, HTTP 404/)
  t.is((await kimura(['prove', 'xyz', '--api', apiOf(leader)])).code, 2)
  t.is((await kimura(['prove', id, '--leader-key', 'abc', '--api', apiOf(leader)])).code, 2)
})

test.serial('follow --from prints one line per block, consecutive, live past the tip; Ctrl-C exits 0', async t => {
  const leader = await startLeader(t, 100)
  await leader.waitForHeight(5)
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KIMURA_')))
  const follow = spawn(process.execPath, [MAIN, 'follow', '--from', '1', '--api', apiOf(leader)], { env, cwd: tempDir(t) })
  let stdout = ''
  follow.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  const exited = new Promise<number | null>(resolve => follow.once('exit', code => { resolve(code) }))
  t.teardown(() => { follow.kill('SIGKILL') })
  const tip = await leader.height()
  await waitFor(() => stdout.split('\n').length > tip + 5, 30_000, `follow to print past height ${tip}`)
  follow.kill('SIGINT')
  t.is(await exited, 0)
  const lines = stdout.trim().split('\n')
  lines.forEach((line, i) => {
    t.regex(line, new RegExp(`^${i + 1}  \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  \\d+ messages?  [0-9a-f]{64}$`), `line ${i}`)
  })
  const third = await new KimuraClient(leader.api).block(3)
  t.is(lines[2], `3  ${new Date(third.header.timestamp).toISOString()}  ${third.messageIds.length} message${third.messageIds.length === 1 ? '' : 's'}  ${third.hash}`)
  t.is((await kimura(['follow', '--from', '-1', '--api', apiOf(leader)])).code, 2)
})
