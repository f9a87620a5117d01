// Waiting on conditions instead of sleeping: poll until true or fail with what was awaited.

export async function waitFor (condition: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition', intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}
