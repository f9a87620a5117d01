// Runs a node until SIGINT or SIGTERM (a graceful stop, exit 0) or until a part it cannot run
// without fails (logged at fatal, a graceful stop, exit 1, so a supervisor restarts it). A
// second signal forces exit.
import { relative } from 'node:path'
import { errorCode, errorMessage } from '../../shared/errors.js'
import type { NodeConfig } from '../config.js'
import { createLogger } from '../logger.js'
import { KimuraNode } from '../node.js'
import { tuneV8Tiering } from '../v8-tiering.js'

/** A graceful stop that takes longer than this is cut short. */
const STOP_DEADLINE_MS = 15_000

export async function runNode (config: NodeConfig): Promise<number> {
  // First: the flags apply to code V8 optimises from now on, in this thread and the workers.
  const v8Flags = tuneV8Tiering()
  const { logger, print, flush } = createLogger(config.logLevel, config.logFormat)
  if (v8Flags.length > 0) logger.debug({ v8Flags }, 'V8 tiering flags set')
  const exit = (code: number): never => {
    flush()
    process.exit(code)
  }
  const node = new KimuraNode(config, logger)
  process.on('unhandledRejection', reason => { logger.error({ err: errorMessage(reason), code: errorCode(reason) }, 'unhandled rejection') })
  process.on('uncaughtException', err => {
    logger.fatal({ err: errorMessage(err), code: errorCode(err), stack: err.stack }, 'uncaught exception: exiting')
    exit(1)
  })
  try {
    await node.start()
  } catch (err) {
    logger.error({ err: errorMessage(err), code: errorCode(err) }, 'the node failed to start')
    flush()
    process.stderr.write(`kimura: could not start: ${errorMessage(err)} (${errorCode(err)})\n`)
    return 1
  }
  if (config.role === 'leader') print(leaderBanner(node))
  else logger.info({ leaderAddr: config.leaderAddr, leaderKey: node.leaderPublicKey }, 'peer started')

  const reason = await new Promise<{ signal: NodeJS.Signals } | { fatal: Error }>(resolve => {
    process.once('SIGINT', () => { resolve({ signal: 'SIGINT' }) })
    process.once('SIGTERM', () => { resolve({ signal: 'SIGTERM' }) })
    void node.failed.then(err => { resolve({ fatal: err }) })
  })
  if ('signal' in reason) {
    logger.info({ signal: reason.signal }, 'shutting down: send the signal again to force exit')
  } else {
    logger.fatal({ err: errorMessage(reason.fatal), code: errorCode(reason.fatal) }, 'a part the node cannot run without failed: stopping with exit code 1 (restart the node)')
  }
  const force = (): void => {
    logger.warn('forced exit')
    exit(1)
  }
  process.once('SIGINT', force)
  process.once('SIGTERM', force)
  const deadline = setTimeout(() => {
    logger.error({ deadlineMs: STOP_DEADLINE_MS }, 'graceful shutdown took too long')
    exit(1)
  }, STOP_DEADLINE_MS)
  deadline.unref()
  await node.stop()
  logger.info('stopped')
  const code = 'signal' in reason ? 0 : 1
  // libp2p and worker handles can outlive stop() by a tick; the state is saved, so leave now.
  setImmediate(() => exit(code))
  return code
}

function leaderBanner (node: KimuraNode): string {
  const addrs = node.network?.getMultiaddrs() ?? []
  const api = node.apiAddress
  const script = relative(process.cwd(), process.argv[1] ?? 'dist/main.js') || 'dist/main.js'
  const lines = [
    '',
    'Kimura leader started',
    `  public key : ${node.leaderPublicKey}`,
    ...addrs.map((a, i) => `  ${i === 0 ? 'listening  :' : '            '} ${a}`),
    `  HTTP API   : ${api === undefined ? 'off' : `http://${api.host}:${api.port}`}`,
    '',
    'Start a peer against it (in another terminal):',
    `  node ${script} --db ./kimura-peer-data --listen /ip4/127.0.0.1/tcp/7001 --api 127.0.0.1:8081 --leader-addr ${addrs[0] ?? '<leader multiaddr>'} --leader-key ${node.leaderPublicKey}`,
    '',
    'Submit a message:',
    `  node ${script} submit --api ${api === undefined ? '127.0.0.1:8080' : `${api.host}:${api.port}`} --wait "hello kimura"`,
    ''
  ]
  return lines.join('\n') + '\n'
}
