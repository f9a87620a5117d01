// A short seeded run of every fuzz target (test/fuzz), so that `npm test` exercises each
// property on a few hundred to a few thousand inputs; `npm run fuzz` runs them for longer.
import '../../../src/shared/polyfill.js'
import test from 'ava'
import { targets } from '../../fuzz/targets/index.js'

/** Fixed, so that a failure here reproduces; `npm run fuzz` draws new seeds. */
const SEED = 20_251_124

// Serial: an error escaping into the process is blamed on the target running at the time.
for (const target of targets) {
  test.serial(`fuzz ${target.name}: ${target.quickRuns} runs hold (${target.about})`, async t => {
    const outcome = await target.run({ seed: SEED, runs: target.quickRuns, maxFindings: 1 })
    for (const f of outcome.findings) t.log(`${f.error}\ninput (replay with the regression test): ${JSON.stringify(f.input).slice(0, 2000)}`)
    t.deepEqual(outcome.findings.map(f => f.error), [])
    t.is(outcome.executions, target.quickRuns)
  })
}
