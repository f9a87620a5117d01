// Bundles what `node dist/main.js` loads, in place: dist/main.js, with the node and each CLI
// command in chunks beside it (dist/kimura-*.js). The rest of tsc's output stays as it was:
// the worker entries (dist/workers/*), which piscina and the producer load by path, the client
// library and the declarations.
//
// Why: Node 20's ESM loader resolves, reads and links each of the ~1,000 modules a node
// imports one by one. Bundled, a peer takes 0.65-0.86 s of CPU from start to "sync complete"
// instead of 0.97-1.24 s (`npm run bench:startup`). On a machine where many nodes share few
// cores, a restarted node waits that many times over before it catches up. The worker entries
// are not bundled: their time goes to lmdb, libsodium and the worker's own start, and bundling
// them measured no gain (benchmarks/README.md, "Start-up").
//
// Packages that load files or native addons by path at run time stay external and are loaded
// from node_modules as before: lmdb, sodium-native, msgpackr (msgpackr-extract), blake3-wasm
// (its .wasm), piscina (its worker), pino and pino-pretty (thread-stream workers).
import * as esbuild from 'esbuild'
import { readdir, readFile, rm } from 'node:fs/promises'
import { dirname, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist')
const MAIN = resolve(DIST, 'main.js')
/** The file names of main.js's chunks, in dist/ beside it (so that import.meta.url keeps its depth). */
const CHUNK_PREFIX = 'kimura-'
const EXTERNAL = ['lmdb', 'sodium-native', 'msgpackr', 'blake3-wasm', 'piscina', 'pino', 'pino-pretty']
// CommonJS packages inside an ESM bundle call require (node: built-ins, pino): give them Node's.
const BANNER = "import { createRequire as __kimuraCreateRequire } from 'node:module'; const require = __kimuraCreateRequire(import.meta.url);"

/**
 * In a bundle, `import.meta.url` is the bundle's URL, not that of the file the code came from.
 * Our files use it to find files relative to themselves (the workers, package.json, the
 * explorer): rewrite it to the original file's URL, seen from dist/, where every output is.
 * @type {import('esbuild').Plugin}
 */
const originalImportMetaUrl = {
  name: 'original-import-meta-url',
  setup (build) {
    build.onLoad({ filter: /\.js$/ }, async args => {
      if (!args.path.startsWith(DIST + sep)) return undefined
      const text = await readFile(args.path, 'utf8')
      if (!text.includes('import.meta.url')) return undefined
      const fromDist = relative(DIST, args.path).split(sep).join('/')
      const url = `new URL(${JSON.stringify(fromDist)}, import.meta.url).href`
      return { contents: text.replaceAll('import.meta.url', url), loader: 'js', resolveDir: dirname(args.path) }
    })
  }
}

// A bundle bundled again would declare its banner twice (after the shebang line): tsc writes
// main.js afresh.
if ((await readFile(MAIN, 'utf8')).slice(0, 200).includes(BANNER)) {
  throw new Error(`${MAIN} is already a bundle: run \`npm run build\`, which compiles it again first`)
}

// The CLI imports the node and each command when it runs them: with code splitting they stay
// in their own chunks, so `kimura submit` does not load libp2p. Chunks of an earlier build are
// removed first (their names carry a content hash).
for (const name of await readdir(DIST)) {
  if (name.startsWith(CHUNK_PREFIX)) await rm(resolve(DIST, name))
}
await esbuild.build({
  entryPoints: [MAIN],
  outdir: DIST,
  outbase: DIST,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  plugins: [originalImportMetaUrl],
  banner: { js: BANNER },
  // Class and function names stay as written (error names in logs, constructor checks).
  keepNames: true,
  // Maps back through tsc's maps to src/*.ts (`node --enable-source-maps`).
  sourcemap: 'linked',
  logLevel: 'warning'
})
