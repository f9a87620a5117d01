// The command line (SPEC section 7): `kimura [options]` runs a node, `kimura submit` sends
// messages. Every node option also reads KIMURA_<NAME> from the environment.
import { Command, Option } from 'commander'
import { errorCode, errorMessage, KimuraError } from '../../shared/errors.js'
import { DEFAULT_PARAMS } from '../../shared/params.js'
import { DEFAULT_MAX_PENDING, LOG_LEVELS, resolveConfig, type RawOptions } from '../config.js'
import { runNode } from './run-node.js'
import { runSubmit } from './submit.js'

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
    .addOption(opt('--leader-addr <multiaddr>', 'peer: the leader\'s multiaddr, ending in /p2p/<peer id>', 'KIMURA_LEADER_ADDR'))
    .addOption(opt('--leader-key <hex>', 'peer: the leader\'s public key', 'KIMURA_LEADER_KEY'))
    .addOption(opt('--block-interval-ms <n>', 'block period in milliseconds', 'KIMURA_BLOCK_INTERVAL_MS', String(DEFAULT_PARAMS.blockIntervalMs)))
    .addOption(opt('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, 'KIMURA_LOG_LEVEL', 'info'))
    .addOption(opt('--threads <n>', 'worker threads in the pool (default: one per core)', 'KIMURA_THREADS'))
    .addOption(opt('--max-pending <n>', 'leader: the most messages waiting in the pending pool; a submission beyond it is refused whole (503 POOL_FULL)', 'KIMURA_MAX_PENDING', String(DEFAULT_MAX_PENDING)))
}

export async function runCli (argv: string[]): Promise<number> {
  let exitCode = 0
  const program = new Command('kimura')
    .description('Kimura: a small, fast, permissioned blockchain node.\nRuns a node (leader or peer) unless a command is given.')
    .showHelpAfterError()
    // Node options go before a command, so `submit --api/--key` are submit's own.
    .enablePositionalOptions()
    .configureOutput({ writeErr: s => process.stderr.write(s) })
    .exitOverride()
  nodeOptions(program).action(async (raw: RawOptions) => {
    const leader = raw.leader === true || TRUE_WORDS.has((process.env.KIMURA_LEADER ?? '').toLowerCase())
    exitCode = await runNode(resolveConfig({ ...raw, leader }))
  })
  program.command('submit')
    .description('sign messages with a sender key and submit them to a node\'s HTTP API')
    .argument('<text...>', 'message contents, one message each')
    .addOption(new Option('--api <host:port>', 'the node\'s HTTP API').env('KIMURA_API').default('127.0.0.1:8080'))
    .addOption(new Option('--key <file>', 'sender key file, created on first use').default('./kimura-sender.key'))
    .option('--wait', 'wait until every message is in a block, and print its height')
    .action(async (texts: string[], opts: { api: string, key: string, wait?: boolean }) => {
      exitCode = await runSubmit({ api: opts.api, keyFile: opts.key, texts, wait: opts.wait === true })
    })
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (isCommanderExit(err)) return err.exitCode
    const code = errorCode(err)
    process.stderr.write(`kimura: ${errorMessage(err)}${err instanceof KimuraError ? ` (${code})` : ''}\n`)
    return code === 'ERR_INVALID_CONFIG' ? 2 : 1
  }
  return exitCode
}

function isCommanderExit (err: unknown): err is { exitCode: number } {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' &&
    err.code.startsWith('commander.') && 'exitCode' in err && typeof err.exitCode === 'number'
}
