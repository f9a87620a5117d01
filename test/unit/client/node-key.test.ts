// kimura/client/node: a Sender's key file is `kimura submit --key`'s (the hex seed, mode 0600),
// created once, loaded after, refused when others can read it.
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { loadOrCreateSender, loadSender, saveSender } from '../../../src/client/node.js'
import { Sender, toHex } from '../../../src/client/index.js'
import { KimuraError } from '../../../src/shared/errors.js'
import { loadSigningKey } from '../../../src/shared/key-file.js'
import { tempDir } from '../../helpers/temp-dir.js'

test('created once with mode 0600, then loaded: the same key, readable as the CLI\'s sender key', t => {
  const path = join(tempDir(t), 'keys', 'sender.key')
  const first = loadOrCreateSender(path)
  t.true(first.created)
  t.is(statSync(path).mode & 0o777, 0o600)
  const again = loadOrCreateSender(path)
  t.false(again.created)
  t.is(again.sender.publicKeyHex, first.sender.publicKeyHex)
  t.is(toHex(loadSigningKey(path).publicKey), first.sender.publicKeyHex, 'the file kimura submit --key reads')
  t.regex(readFileSync(path, 'utf8'), /^[0-9a-f]{64}\n$/)
})

test('saveSender never replaces a key; loadSender refuses a shared or malformed file', t => {
  const dir = tempDir(t)
  const path = join(dir, 'a.key')
  const sender = Sender.random()
  t.true(saveSender(path, sender))
  t.false(saveSender(path, Sender.random()), 'an existing file is kept')
  t.is(loadSender(path).publicKeyHex, sender.publicKeyHex)
  chmodSync(path, 0o644)
  t.throws(() => loadSender(path), { instanceOf: KimuraError, message: /chmod 600/ })
  const bad = join(dir, 'bad.key')
  writeFileSync(bad, 'not a seed\n', { mode: 0o600 })
  const error = t.throws(() => loadSender(bad), { instanceOf: KimuraError })
  t.is((error as KimuraError | undefined)?.code, 'ERR_KEY_FILE')
})
