// The package export: `kimura/client` (and `kimura/client/node`) resolve to the built client
// with its types, and the browser entry's whole import graph is browser code: modules of the
// client itself and @noble's, no Node built-in, no Buffer, no process, no require.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import test from 'ava'

const DIST_CLIENT = resolve('dist/client')

/** The module specifiers a compiled ES module imports or re-exports (static and dynamic). */
function importsOf (source: string): string[] {
  const found: string[] = []
  for (const m of source.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    found.push(m[1] ?? m[2] ?? m[3])
  }
  return found
}

test('kimura/client and kimura/client/node resolve to the built client, with type declarations', async t => {
  // A variable specifier: resolved by Node through package.json's exports at run time.
  const specifier = 'kimura/client'
  const client = await import(specifier) as Record<string, unknown>
  for (const name of ['KimuraClient', 'Sender', 'verifyInclusion', 'KimuraApiError', 'KimuraTransportError', 'messageId', 'followEvents']) {
    t.is(typeof client[name], 'function', name)
  }
  const nodeSpecifier = 'kimura/client/node'
  const node = await import(nodeSpecifier) as Record<string, unknown>
  t.is(typeof node.loadOrCreateSender, 'function')
  t.true(existsSync(join(DIST_CLIENT, 'index.d.ts')), 'dist/client/index.d.ts')
  t.true(existsSync(join(DIST_CLIENT, 'node.d.ts')), 'dist/client/node.d.ts')
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, { types: string, default: string }> }
  t.is(resolve(pkg.exports['./client'].default), join(DIST_CLIENT, 'index.js'))
})

test('the browser entry imports only the client\'s own modules and @noble, and uses no Node global', t => {
  const seen = new Set<string>()
  const external = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const source = readFileSync(file, 'utf8')
    const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '')
    t.notRegex(code, /\bBuffer\b|\bprocess\.|\brequire\(|\b__dirname\b/, `${file} uses a Node global`)
    for (const specifier of importsOf(source)) {
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier)
        t.true(target.startsWith(DIST_CLIENT + '/'), `${file} imports ${specifier}, outside the client`)
        visit(target)
      } else {
        external.add(specifier)
      }
    }
  }
  visit(join(DIST_CLIENT, 'index.js'))
  t.false(seen.has(join(DIST_CLIENT, 'node.js')), 'the browser entry reaches the Node-only module')
  t.true(seen.size >= 10, `only ${seen.size} modules seen: the import scan is broken`)
  for (const specifier of external) t.regex(specifier, /^@noble\/(hashes|curves)\//, `a dependency the browser may not have: ${specifier}`)
  t.log(`${seen.size} modules; dependencies: ${[...external].sort().join(', ')}`)
})
