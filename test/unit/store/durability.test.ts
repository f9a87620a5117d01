// SPEC 6: a message acknowledged by appendPending is durable at that moment; it survives a
// kill -9 of the process that wrote it.
import '../../../src/shared/polyfill.js'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { toHex } from '../../../src/shared/bytes.js'
import { encodeMessage } from '../../../src/shared/codec.js'
import { messageId } from '../../../src/shared/hash.js'
import { makeMessages } from '../../helpers/fixtures.js'
import { openStore } from '../../helpers/store-fixtures.js'
import { tempDir } from '../../helpers/temp-dir.js'

const SCRIPT = fileURLToPath(new URL('../../helpers/append-and-hang.js', import.meta.url))

/** Runs the append script until it prints 'ok', then kills it with SIGKILL. */
async function appendThenKill (dataDir: string, count: number, nonceStart: number): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, [SCRIPT, dataDir, String(count), String(nonceStart)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        if (stdout.includes('ok\n')) resolve()
      })
      void exited.then(([code]) => { reject(new Error(`the append script exited (${String(code)}) before 'ok': ${stderr}`)) })
    })
  } finally {
    child.kill('SIGKILL')
  }
  const [, signal] = await exited
  return signal
}

test('messages acknowledged by appendPending survive kill -9 of the writing process', async t => {
  const dataDir = tempDir(t)
  const signal = await appendThenKill(dataDir, 50, 0)
  t.is(signal, 'SIGKILL', 'the writer died without closing the store')

  // A second writer, killed too, appends behind the first one's messages.
  t.is(await appendThenKill(dataDir, 20, 50), 'SIGKILL')

  const store = openStore(t, dataDir)
  const messages = [...makeMessages(50, { nonceStart: 0 }), ...makeMessages(20, { nonceStart: 50 })]
  t.is(store.pending.count(), 70)
  t.deepEqual(store.pending.takeOldest(100).map(e => toHex(e.id)), messages.map(m => toHex(messageId(m))))
  for (const m of messages) t.deepEqual(store.pending.get(messageId(m)), encodeMessage(m))
  t.is(store.tip().height, 0)
})
