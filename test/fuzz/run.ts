// `npm run fuzz`: runs every target (or those named) for a fixed budget, each in its own
// process under V8 coverage, saves each finding under test/fuzz/regressions/, and prints a
// table: executions, findings and branch coverage of the decoder files per target, then the
// totals. The last line is one JSON object of the figures. Exits 1 when anything was found.
import '../../src/shared/polyfill.js'
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { b3 } from '../../src/shared/hash.js'
import { DECODER_FILES, branchCoverage, loadC8Config, pct, type BranchCount } from './lib/coverage.js'
import type { FoundFailure, RunOutcome } from './lib/target.js'
import { findTarget, targets } from './targets/index.js'

const USAGE = `usage: npm run fuzz -- [options]
  --target a,b     run only these targets (${targets.map(t => t.name).join(', ')})
  --runs N         executions per target (default: each target's own budget)
  --scale F        multiply each target's default budget by F
  --seconds S      run each target for S seconds instead of a number of executions
  --seed N         base seed (default: random, printed)
  --jobs N         targets run at once (default 1)
  --no-coverage    skip V8 coverage`

const { values: args } = parseArgs({
  options: {
    target: { type: 'string' },
    runs: { type: 'string' },
    scale: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    jobs: { type: 'string' },
    child: { type: 'string' },
    'no-coverage': { type: 'boolean' },
    help: { type: 'boolean' }
  }
})

function numberArg (name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`--${name}: expected a positive number, got ${text}\n${USAGE}\n`)
    process.exit(2)
  }
  return n
}

const root = process.cwd()
const RESULT_PREFIX = 'FUZZ-RESULT '

/** Child mode: one target, one budget; the outcome as one line on stdout. */
async function runChild (name: string): Promise<void> {
  const target = findTarget(name)
  if (target === undefined) throw new Error(`unknown target ${name}`)
  const runs = numberArg('runs', args.runs)
  const seconds = numberArg('seconds', args.seconds)
  const seed = numberArg('seed', args.seed) ?? 1
  const outcome = await target.run({ seed, ...(runs === undefined ? {} : { runs: Math.round(runs) }), ...(seconds === undefined ? {} : { seconds }) })
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(outcome)}\n`)
}

interface TargetReport {
  name: string
  outcome: RunOutcome
  crash?: string
  coverage: Map<string, BranchCount>
}

function spawnTarget (name: string, budget: string[], coverageDir: string | undefined): Promise<{ outcome?: RunOutcome, crash?: string }> {
  return new Promise(done => {
    const env = { ...process.env }
    if (coverageDir !== undefined) env.NODE_V8_COVERAGE = coverageDir
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', name, ...budget], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
    child.on('close', code => {
      const line = stdout.split('\n').find(l => l.startsWith(RESULT_PREFIX))
      if (code === 0 && line !== undefined) done({ outcome: JSON.parse(line.slice(RESULT_PREFIX.length)) as RunOutcome })
      else {
        // The error's own line first (a stack's tail says little), then the last lines.
        const lines = stderr.trim().split('\n')
        const errorLine = lines.find(l => /\w*Error\b/.test(l)) ?? ''
        done({ crash: `exit ${String(code)}: ${[errorLine, ...lines.slice(-3)].filter(l => l !== '').join(' | ')}` })
      }
    })
  })
}

/** Saves a finding as a regression input; the file name is the target and a hash of the input. */
function saveFinding (f: FoundFailure): string {
  const dir = resolve(root, 'test/fuzz/regressions')
  mkdirSync(dir, { recursive: true })
  const body = JSON.stringify({ target: f.target, error: f.error, seed: f.seed, path: f.path, found: new Date().toISOString(), input: f.input }, null, 2)
  const id = Buffer.from(b3(new Uint8Array(Buffer.from(JSON.stringify(f.input))))).toString('hex').slice(0, 12)
  const file = resolve(dir, `${f.target}-${id}.json`)
  if (!existsSync(file)) writeFileSync(file, `${body}\n`)
  return file
}

const fmt = (n: number): string => n.toLocaleString('en-US')
const short = (file: string): string => basename(file)

function coverageText (files: readonly string[], coverage: Map<string, BranchCount>): string {
  return files.map(f => {
    const c = coverage.get(f)
    return `${short(f)} ${c === undefined ? 'n/a' : `${pct(c)}%`}`
  }).join(' · ')
}

async function runParent (): Promise<void> {
  const chosen = args.target === undefined ? targets : args.target.split(',').map(n => {
    const t = findTarget(n.trim())
    if (t === undefined) { process.stderr.write(`unknown target ${n}\n${USAGE}\n`); process.exit(2) }
    return t
  })
  const seed = numberArg('seed', args.seed) ?? Math.floor(Math.random() * 0x7fff_ffff)
  const scale = numberArg('scale', args.scale) ?? 1
  const seconds = numberArg('seconds', args.seconds)
  const jobs = Math.max(1, Math.round(numberArg('jobs', args.jobs) ?? 1))
  const withCoverage = args['no-coverage'] !== true
  const config = loadC8Config(root)
  const v8Root = resolve(root, '.tmp/fuzz/v8')
  rmSync(v8Root, { recursive: true, force: true })
  process.stdout.write(`fuzzing ${chosen.length} targets, seed ${seed}, ${seconds === undefined ? `${scale === 1 ? 'default' : `${scale} x default`} budgets` : `${seconds} s each`}${withCoverage ? ', under V8 coverage' : ''}\n`)

  const reports: TargetReport[] = []
  const queue = [...chosen]
  const worker = async (): Promise<void> => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      const runs = numberArg('runs', args.runs) ?? Math.round(t.runs * scale)
      const budget = ['--seed', String(seed), ...(seconds === undefined ? ['--runs', String(runs)] : ['--seconds', String(seconds)])]
      const dir = withCoverage ? resolve(v8Root, 'targets', t.name) : undefined
      const { outcome, crash } = await spawnTarget(t.name, budget, dir)
      const coverage = dir === undefined ? new Map<string, BranchCount>() : await branchCoverage(root, dir, config.include)
      reports.push({ name: t.name, outcome: outcome ?? { executions: 0, findings: [], ms: 0 }, ...(crash === undefined ? {} : { crash }), coverage })
      process.stdout.write(`  ${t.name}: ${fmt(outcome?.executions ?? 0)} executions, ${outcome?.findings.length ?? 0} findings${crash === undefined ? '' : `, CRASHED (${crash})`}\n`)
    }
  }
  await Promise.all(Array.from({ length: jobs }, worker))
  reports.sort((a, b) => chosen.findIndex(t => t.name === a.name) - chosen.findIndex(t => t.name === b.name))

  // Every child's coverage together: the figure the goal is about.
  let merged = new Map<string, BranchCount>()
  let decoders = new Map<string, BranchCount>()
  if (withCoverage) {
    const all = resolve(root, config['temp-directory'])
    mkdirSync(all, { recursive: true })
    for (const r of reports) {
      const dir = resolve(v8Root, 'targets', r.name)
      if (existsSync(dir)) for (const f of readdirSync(dir)) cpSync(resolve(dir, f), resolve(all, `${r.name}-${f}`))
    }
    merged = await branchCoverage(root, all, config.include)
    decoders = await branchCoverage(root, all, config.include, true)
  }

  const saved: string[] = []
  for (const r of reports) for (const f of r.outcome.findings) saved.push(saveFinding(f))

  const rows = reports.map(r => {
    const t = chosen.find(x => x.name === r.name)
    const files = t?.files ?? []
    const findings = r.outcome.findings.length + (r.crash === undefined ? 0 : 1)
    const rate = r.outcome.ms > 0 ? Math.round(r.outcome.executions / (r.outcome.ms / 1000)) : 0
    return [r.name, fmt(r.outcome.executions), String(findings), `${(r.outcome.ms / 1000).toFixed(1)}s`, fmt(rate), withCoverage ? coverageText(files, r.coverage) : '-']
  })
  const executions = reports.reduce((n, r) => n + r.outcome.executions, 0)
  const findings = reports.reduce((n, r) => n + r.outcome.findings.length, 0)
  const crashes = reports.filter(r => r.crash !== undefined).length
  const ms = reports.reduce((n, r) => n + r.outcome.ms, 0)
  const decoderFiles = Object.keys(DECODER_FILES).filter(f => decoders.has(f))
  rows.push(['total', fmt(executions), String(findings + crashes), `${(ms / 1000).toFixed(1)}s`, '', withCoverage ? coverageText([...merged.keys()].sort(), merged) : '-'])
  const header = ['target', 'executions', 'findings', 'time', 'exec/s', 'branch coverage (c8, per file)']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ').trimEnd()
  process.stdout.write(`\n${line(header)}\n${widths.map(w => '-'.repeat(w)).join('  ')}\n${rows.slice(0, -1).map(line).join('\n')}\n${widths.map(w => '-'.repeat(w)).join('  ')}\n${line(rows[rows.length - 1])}\n\n`)

  const decoderTotal = decoderFiles.reduce((s, f) => { const c = decoders.get(f) as BranchCount; return { covered: s.covered + c.covered, total: s.total + c.total } }, { covered: 0, total: 0 })
  if (withCoverage) {
    process.stdout.write(`decoder branches reached: ${decoderTotal.covered}/${decoderTotal.total} (${pct(decoderTotal)}%): ${decoderFiles.map(f => { const c = decoders.get(f) as BranchCount; return `${short(f)}${DECODER_FILES[f] === undefined ? '' : ` [${(DECODER_FILES[f] ?? []).join(', ')}]`} ${c.covered}/${c.total}` }).join(', ')}\n`)
    process.stdout.write(`coverage data: ${config['temp-directory']} (npx c8 report for the line-by-line report)\n`)
  }
  for (const r of reports) if (r.crash !== undefined) process.stdout.write(`CRASH in ${r.name}: ${r.crash}\n`)
  for (const r of reports) for (const f of r.outcome.findings) process.stdout.write(`FINDING in ${f.target} (seed ${f.seed}, path ${f.path ?? '-'}): ${f.error.slice(0, 400)}\n`)
  if (saved.length > 0) process.stdout.write(`saved as regression inputs: ${saved.map(s => s.slice(root.length + 1)).join(', ')}\n`)

  const figures = {
    seed,
    executions,
    findings,
    crashes,
    decoderBranches: withCoverage ? { ...decoderTotal, pct: pct(decoderTotal) } : null,
    targets: Object.fromEntries(reports.map(r => [r.name, {
      executions: r.outcome.executions,
      findings: r.outcome.findings.length,
      crashed: r.crash !== undefined,
      seconds: Math.round(r.outcome.ms) / 1000,
      branches: Object.fromEntries((chosen.find(x => x.name === r.name)?.files ?? []).map(f => [short(f), r.coverage.has(f) ? pct(r.coverage.get(f) as BranchCount) : null]))
    }])),
    files: Object.fromEntries([...merged].map(([f, c]) => [f, { ...c, pct: pct(c) }]))
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`)
  process.exitCode = findings + crashes > 0 ? 1 : 0
}

if (args.help === true) process.stdout.write(`${USAGE}\n`)
else if (args.child !== undefined) await runChild(args.child)
else await runParent()
