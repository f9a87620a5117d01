// Debian's chromium (`apt-get install chromium`) driven by playwright-core, headless, with a
// fresh profile: the browser tests and the screenshot script share this launch.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

export interface LaunchedBrowser {
  context: BrowserContext
  /** Closes the browser and removes its profile. */
  close: () => Promise<void>
}

/** Why the browser cannot run here, or undefined when it can. */
export function chromiumMissing (): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (Debian: apt-get install -y chromium; .ci/run installs it)`
}

export async function launchChromium (): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'kimura-chromium-'))
  // A persistent context is how playwright takes a --user-data-dir: here a fresh one each launch.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  })
  return {
    context,
    close: async () => {
      await context.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    }
  }
}
