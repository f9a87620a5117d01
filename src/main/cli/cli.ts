// The command line (SPEC section 7): `kimura [options]` runs a node, `kimura submit` sends
// messages, `kimura block`, `prove` and `follow` read the chain through kimura/client. Every
// node option also reads KIMURA_<NAME> from the environment.
import { Command, InvalidArgumentError, Option } from 'commander'
import { errorCode, errorMessage, KimuraError } from '../../shared/errors.js'
import { DEFAULT_PARAMS } from '../../shared/params.js'
import { DEFAULT_EVENT_LOOP_RESOLUTION_MS, DEFAULT_MAX_PENDING, DEFAULT_WORKER_NICE, LOG_FORMATS, LOG_LEVELS, resolveConfig, type RawOptions } from '../config.js'
import { KIMURA_VERSION } from '../version.js'
import { apiOption } from './client-cli.js'

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on'])

function nodeOptions (cmd: Command): Command {
  const opt = (flags: string, description: string, env: string, fallback?: string): Option => {
    const option = new Option(flags, description).env(env)
    return fallback === undefined ? option : option.default(fallback)
  }
  return cmd
    .addOption(new Option('--leader', 'run as the leader (env KIMURA_LEADER=1)'))
    .addOption(opt('--db <dir>', 'data directory', 'KIMURA_DB', './kimura-data'))
    .addOption(opt('--listen <multiaddr>', 'libp2p listen address (comma-separated for several)', 'KIMURA_LISTEN', '/ip4/127.0.0.1/tcp/7000'))
    .addOption(opt('--api <host:port>', 'HTTP API address, or "off"', 'KIMURA_API', '127.0.0.1:8080'))
    .addOption(opt('--key <file>', 'leader signing key file, created on first start (default: <db>/leader.key)', 'KIMURA_KEY'))
    .addOption(opt('--leader-addr <multiaddr>', 'where to dial the leader, ending in /p2p/<peer id> (a peer needs it unless --peers is given)', 'KIMURA_LEADER_ADDR'))
    .addOption(opt('--peers <multiaddr,...>', 'other nodes (of any role) to dial and keep connected to, each ending in /p2p/<peer id>', 'KIMURA_PEERS'))
    .addOption(opt('--announce <multiaddr,...>', 'the addresses other nodes are told to dial (when listening on 0.0.0.0 or behind NAT; default: the listen addresses)', 'KIMURA_ANNOUNCE'))
    .addOption(opt('--leader-key <hex>', 'peer: the leader\'s public key', 'KIMURA_LEADER_KEY'))
    .addOption(opt('--block-interval-ms <n>', 'block period in milliseconds', 'KIMURA_BLOCK_INTERVAL_MS', String(DEFAULT_PARAMS.blockIntervalMs)))
    .addOption(opt('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, 'KIMURA_LOG_LEVEL', 'info'))
    .addOption(opt('--log-format <format>', `log format: ${LOG_FORMATS.join(' or ')} (default: pretty on a terminal, else json)`, 'KIMURA_LOG_FORMAT'))
    .addOption(opt('--threads <n>', 'worker threads in the pool (default: one per core)', 'KIMURA_THREADS'))
    .addOption(opt('--event-loop-resolution-ms <n>', `how often the event-loop delay metrics sample, in milliseconds (default: ${DEFAULT_EVENT_LOOP_RESOLUTION_MS}; 10 for fine percentiles, at about 0.5 % of a core)`, 'KIMURA_EVENT_LOOP_RESOLUTION_MS'))
    .addOption(opt('--worker-nice <n>', 'the nice value (0 to 19) of the worker threads, on Linux: with 10 on a machine of its own, verification, imports and block production yield the CPU to the main thread\'s networking and timers when the cores are busy (they yield to every other process too); 0 runs them as the main thread', 'KIMURA_WORKER_NICE', String(DEFAULT_WORKER_NICE)))
    .addOption(opt('--max-pending <n>', 'leader: the most messages waiting in the pending pool; a submission beyond it is refused whole (503 POOL_FULL)', 'KIMURA_MAX_PENDING', String(DEFAULT_MAX_PENDING)))
    .addOption(opt('--allow-peers <peerid,...>', 'connect only with these libp2p peer ids (plus those of --leader-addr and --peers); others are closed after the handshake (default: anyone)', 'KIMURA_ALLOW_PEERS'))
}

export async function runCli (argv: string[]): Promise<number> {
  let exitCode = 0
  const program = new Command('kimura')
    .description('Kimura: a small, fast, permissioned blockchain node.\nRuns a node (leader or peer) unless a command is given.')
    .version(KIMURA_VERSION, '-V, --version', 'print the version and exit')
    .showHelpAfterError()
    // Node options go before a command, so `submit --api/--key` are submit's own.
    .enablePositionalOptions()
    .configureOutput({ writeErr: s => process.stderr.write(s) })
    .exitOverride()
  nodeOptions(program).action(async (raw: RawOptions) => {
    const leader = raw.leader === true || TRUE_WORDS.has((process.env.KIMURA_LEADER ?? '').toLowerCase())
    const config = resolveConfig({ ...raw, leader })
    // Loaded only when used: --help, --version and usage errors answer without loading libp2p.
    const { runNode } = await import('./run-node.js')
    exitCode = await runNode(config)
  })
  program.command('submit')
    .description('sign messages with a sender key and submit them to a node\'s HTTP API')
    .argument('<text...>', 'message contents, one message each')
    .addOption(new Option('--api <host:port>', 'the node\'s HTTP API').env('KIMURA_API').default('127.0.0.1:8080'))
    .addOption(new Option('--key <file>', 'sender key file, created on first use').default('./kimura-sender.key'))
    .option('--wait', 'wait until every message is in a block, and print its height')
    .addOption(new Option('--format <format>', 'the request body').choices(['msgpack', 'json']).default('msgpack'))
    .action(async (texts: string[], opts: { api: string, key: string, wait?: boolean, format: 'msgpack' | 'json' }) => {
      const { runSubmit } = await import('./submit.js')
      exitCode = await runSubmit({ api: opts.api, keyFile: opts.key, texts, wait: opts.wait === true, format: opts.format })
    })
  program.command('block')
    .description('print a block as the node\'s API answers it (JSON)')
    .argument('<height>', 'a height, or "latest"')
    .option('--messages', 'include the messages, not only their ids')
    .addOption(apiOption())
    .action(async (height: string, opts: { api: string, messages?: boolean }) => {
      const { runBlock } = await import('./block.js')
      exitCode = await runBlock({ api: opts.api, height, messages: opts.messages === true })
    })
  program.command('prove')
    .description('fetch a message\'s inclusion proof, verify it (audit path, block hash, leader signature) and print it with the key it was verified against; exits 1 when it does not verify')
    .argument('<id>', 'the message id (64 hex characters)')
    .addOption(new Option('--leader-key <hex>', 'the leader\'s public key to verify against (without it, the key the node reports: that only shows the node agrees with itself)').env('KIMURA_LEADER_KEY'))
    .addOption(apiOption())
    .action(async (id: string, opts: { api: string, leaderKey?: string }) => {
      const { runProve } = await import('./prove.js')
      exitCode = await runProve({ api: opts.api, id, ...(opts.leaderKey === undefined ? {} : { leaderKey: opts.leaderKey }) })
    })
  program.command('follow')
    .description('print blocks as the node stores them, one line each (height, time, messages, hash), from its event stream, until Ctrl-C')
    .addOption(new Option('--from <height>', 'start at this height (stored blocks first); default: blocks from now on').argParser(parseHeightOption))
    .addOption(apiOption())
    .action(async (opts: { api: string, from?: number }) => {
      const { runFollow } = await import('./follow.js')
      exitCode = await runFollow({ api: opts.api, ...(opts.from === undefined ? {} : { from: opts.from }) })
    })
  try {
    await program.parseAsync(argv)
  } catch (err) {
    // Help and version exit 0; any usage error (unknown option or command, a missing value) is 2,
    // like an invalid value, as the README documents.
    if (isCommanderExit(err)) return err.exitCode === 0 ? 0 : 2
    const code = errorCode(err)
    process.stderr.write(`kimura: ${errorMessage(err)}${err instanceof KimuraError ? ` (${code})` : ''}\n`)
    return code === 'ERR_INVALID_CONFIG' ? 2 : 1
  }
  return exitCode
}

function parseHeightOption (text: string): number {
  const height = Number(text)
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(height)) throw new InvalidArgumentError('a height is a non-negative integer')
  return height
}

function isCommanderExit (err: unknown): err is { exitCode: number } {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' &&
    err.code.startsWith('commander.') && 'exitCode' in err && typeof err.exitCode === 'number'
}
