// A fuzz target: an input generator and a property over it. Running one repeats fast-check
// runs (a new seed after each finding) until the budget of executions or seconds is spent;
// each finding is the shrunk counterexample, in a JSON form the regression test replays.
import fc from 'fast-check'
import { Finding } from './checks.js'

export interface TargetSpec<I> {
  name: string
  /** One line: what is fuzzed and what is checked. */
  about: string
  /** Source files (from the repository root) whose branch coverage this target reports. */
  files: readonly string[]
  input: fc.Arbitrary<I>
  /** Returns, or throws (a Finding, or whatever escaped the code under test). */
  check: (input: I) => void | Promise<void>
  /**
   * The check awaits: each run also waits a macrotask, so that a rejection nobody handled
   * surfaces and fails the input that caused it.
   */
  async?: boolean
  /** Executions for `npm run fuzz` by default. */
  runs: number
  /** Executions in the short run inside `npm test`. */
  quickRuns: number
}

export interface RunOptions {
  seed: number
  /** Budget in executions, or in seconds when `seconds` is set. */
  runs?: number
  seconds?: number
  /** Stop after this many findings. */
  maxFindings?: number
}

export interface FoundFailure {
  target: string
  error: string
  seed: number
  path: string | null
  /** The shrunk input, in the JSON form of toJsonForm. */
  input: unknown
}

export interface RunOutcome {
  executions: number
  findings: FoundFailure[]
  ms: number
}

export interface FuzzTarget {
  readonly name: string
  readonly about: string
  readonly files: readonly string[]
  readonly runs: number
  readonly quickRuns: number
  run (options: RunOptions): Promise<RunOutcome>
  /** Runs the check on a saved input (the JSON form); rejects when it still fails. */
  replay (input: unknown): Promise<void>
}

/** Errors that escaped into the process (unhandled rejections, uncaught exceptions) while a target runs. */
const escaped: unknown[] = []
const onEscape = (err: unknown): void => { escaped.push(err) }

let watchers = 0

/** Listens for escaped errors while `body` runs (one listener however many runs overlap). */
async function watchingEscapes<T> (body: () => Promise<T>): Promise<T> {
  if (watchers++ === 0) {
    process.on('unhandledRejection', onEscape)
    process.on('uncaughtException', onEscape)
  }
  try {
    return await body()
  } finally {
    if (--watchers === 0) {
      process.off('unhandledRejection', onEscape)
      process.off('uncaughtException', onEscape)
    }
  }
}

function throwEscaped (): void {
  if (escaped.length === 0) return
  const first = escaped[0]
  escaped.length = 0
  throw new Finding(`an error escaped the code under test: ${first instanceof Error ? first.stack ?? first.message : String(first)}`)
}

export function defineTarget<I> (spec: TargetSpec<I>): FuzzTarget {
  const property: fc.IRawProperty<[I]> = spec.async === true
    ? fc.asyncProperty(spec.input, async input => {
      await spec.check(input)
      await new Promise(resolve => setImmediate(resolve))
      throwEscaped()
    })
    : fc.property(spec.input, input => {
      void spec.check(input)
      throwEscaped()
    })
  return {
    name: spec.name,
    about: spec.about,
    files: spec.files,
    runs: spec.runs,
    quickRuns: spec.quickRuns,
    run: async options => await watchingEscapes(async () => {
      const started = performance.now()
      const deadline = options.seconds === undefined ? undefined : started + options.seconds * 1000
      let remaining = options.seconds === undefined ? options.runs ?? spec.runs : Number.MAX_SAFE_INTEGER
      let seed = options.seed
      let executions = 0
      const findings: FoundFailure[] = []
      const kinds = new Set<string>()
      let failures = 0
      while (remaining > 0) {
        const timeLeft = deadline === undefined ? undefined : deadline - performance.now()
        if (timeLeft !== undefined && timeLeft <= 0) break
        const params: fc.Parameters<[I]> = {
          seed,
          numRuns: remaining,
          plugins: timeLeft === undefined ? [] : [fc.interruptAfterTimeLimit(timeLeft)]
        }
        const details: fc.RunDetails<[I]> = await fc.check(property, params)
        executions += details.numRuns
        remaining -= details.numRuns
        if (!details.failed || details.counterexample === null) break
        const error = describe(details.errorInstance)
        failures++
        // The same failure found again from another seed is one finding.
        const kind = error.replace(/\d+/g, '#').slice(0, 160)
        if (!kinds.has(kind)) {
          kinds.add(kind)
          findings.push({ target: spec.name, error, seed, path: details.counterexamplePath, input: toJsonForm(details.counterexample[0]) })
        }
        if (findings.length >= (options.maxFindings ?? 3) || failures >= 10) break
        // Go on with another stream of inputs: the same seed would find the same failure.
        seed = (Math.imul(seed ^ 0x9e37_79b9, 0x85eb_ca6b) >>> 0)
      }
      return { executions, findings, ms: performance.now() - started }
    }),
    replay: async input => {
      await watchingEscapes(async () => {
        await spec.check(fromJsonForm(input) as I)
        await new Promise(resolve => setImmediate(resolve))
        throwEscaped()
      })
    }
  }
}

function describe (error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return String(error)
}

// ---- A JSON form for any input: bytes as hex, the numbers JSON cannot hold as strings ----

export function toJsonForm (value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('hex') }
  if (typeof value === 'bigint') return { $bigint: value.toString() }
  if (typeof value === 'number' && (Object.is(value, -0) || !Number.isFinite(value))) return { $number: Object.is(value, -0) ? '-0' : String(value) }
  if (value === undefined) return { $undefined: true }
  if (Array.isArray(value)) return value.map(toJsonForm)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonForm(v)]))
  }
  return value
}

export function fromJsonForm (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJsonForm)
  if (typeof value !== 'object' || value === null) return value
  const o = value as Record<string, unknown>
  if (typeof o.$bytes === 'string') return new Uint8Array(Buffer.from(o.$bytes, 'hex'))
  if (typeof o.$bigint === 'string') return BigInt(o.$bigint)
  if (typeof o.$number === 'string') return o.$number === '-0' ? -0 : Number(o.$number)
  if (o.$undefined === true) return undefined
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromJsonForm(v)]))
}
