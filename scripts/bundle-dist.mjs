// Bundles what `node dist/main.js` loads, in place: dist/main.js (with the node and each CLI
// command in chunks beside it, dist/kimura-*.js) and the two worker entries
// (dist/workers/pool-worker.js, producer-worker.js). The rest of tsc's output stays as it was
// (the client library, declarations); the bundles replace only those three files.
//
// Why: Node 20's ESM loader resolves, reads and links each of the ~1,000 modules a node
// imports one by one, which cost a peer about 1.2 s of CPU from start to "sync complete"
// (0.75 s bundled). On a machine where many nodes share few cores, a restarted node waits that
// many times over before it catches up. See benchmarks/README.md, "A bundled node".
//
// Packages that load files or native addons by path at run time stay external and are loaded
// from node_modules as before: lmdb, sodium-native, msgpackr (msgpackr-extract), blake3-wasm
// (its .wasm), piscina (its worker), pino and pino-pretty (thread-stream workers).
import * as esbuild from 'esbuild'
import { readdir, readFile, rm } from 'node:fs/promises'
import { dirname, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist')
const MAIN = 'main.js'
const WORKERS = ['workers/pool-worker.js', 'workers/producer-worker.js']
/** The file names of main.js's chunks, in dist/ beside it (so that import.meta.url keeps its depth). */
const CHUNK_PREFIX = 'kimura-'
const EXTERNAL = ['lmdb', 'sodium-native', 'msgpackr', 'msgpackr-extract', 'blake3-wasm', 'piscina', 'pino', 'pino-pretty', 'thread-stream']
// CommonJS packages inside an ESM bundle call require (node: built-ins, pino): give them Node's.
const BANNER = "import { createRequire as __kimuraCreateRequire } from 'node:module'; const require = __kimuraCreateRequire(import.meta.url);"

/**
 * In a bundle, `import.meta.url` is the bundle's URL, not that of the file the code came from.
 * Our files use it to find files relative to themselves (the workers, package.json, the
 * explorer): rewrite it to the original file's URL, seen from the bundle's.
 * @param {string} dir the directory of the bundle's files
 * @returns {import('esbuild').Plugin}
 */
function originalImportMetaUrl (dir) {
  return {
    name: 'original-import-meta-url',
    setup (build) {
      build.onLoad({ filter: /\.js$/ }, async args => {
        if (!args.path.startsWith(DIST + sep)) return undefined
        const text = await readFile(args.path, 'utf8')
        if (!text.includes('import.meta.url')) return undefined
        const fromBundle = relative(dir, args.path).split(sep).join('/')
        const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`
        return { contents: text.replaceAll('import.meta.url', url), loader: 'js', resolveDir: dirname(args.path) }
      })
    }
  }
}

/**
 * The options every bundle shares.
 * @param {string} dir where the bundle's files go
 * @returns {import('esbuild').BuildOptions}
 */
function common (dir) {
  return {
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    plugins: [originalImportMetaUrl(dir)],
    banner: { js: BANNER },
    // Class and function names stay as written (error names in logs, constructor checks).
    keepNames: true,
    // Maps back through tsc's maps to src/*.ts (`node --enable-source-maps`).
    sourcemap: 'linked',
    logLevel: 'warning'
  }
}

for (const entry of [MAIN, ...WORKERS]) {
  // A bundle bundled again would declare its banner twice (after main.js's shebang line):
  // tsc writes the entries afresh.
  if ((await readFile(resolve(DIST, entry), 'utf8')).slice(0, 200).includes(BANNER)) {
    throw new Error(`${resolve(DIST, entry)} is already a bundle: run \`npm run build\`, which compiles it again first`)
  }
}

// The CLI imports the node and each command when it runs them: with code splitting they stay
// in their own chunks beside main.js, so `kimura submit` does not load libp2p. Chunks of an
// earlier build are removed first (their names carry a content hash).
for (const name of await readdir(DIST)) {
  if (name.startsWith(CHUNK_PREFIX)) await rm(resolve(DIST, name))
}
await esbuild.build({
  ...common(DIST),
  entryPoints: [resolve(DIST, MAIN)],
  outdir: DIST,
  outbase: DIST,
  splitting: true,
  chunkNames: `${CHUNK_PREFIX}[name]-[hash]`
})

for (const entry of WORKERS) {
  const outfile = resolve(DIST, entry)
  await esbuild.build({ ...common(dirname(outfile)), entryPoints: [outfile], outfile })
}
