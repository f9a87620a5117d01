// Child process for the durability test: opens the store in argv[2], appends `count` (argv[3])
// fixture messages starting at nonce argv[4] to `pending` in batches of 10, prints 'ok' once
// appendPending has returned for all of them (the point where the leader answers 202), then
// waits to be killed.
import '../../src/shared/polyfill.js'
import { ChainStore } from '../../src/shared/store/index.js'
import { makeMessages } from './fixtures.js'
import { NO_POOL_LIMIT, pendingOf } from './store-fixtures.js'

const [dataDir, countText, nonceText] = process.argv.slice(2)
const count = Number(countText)
const nonceStart = Number(nonceText)
const store = ChainStore.open({ dataDir, initialize: true })
const entries = pendingOf(makeMessages(count, { nonceStart }))
for (let i = 0; i < entries.length; i += 10) store.appendPending([entries.slice(i, i + 10)], NO_POOL_LIMIT)
process.stdout.write('ok\n')
// Keep the process (and the open store) alive until SIGKILL.
setInterval(() => undefined, 60_000)
