// comlink ships no `exports` map: its default entry is a UMD bundle. These declarations let
// the ESM build and its Node adapter be imported with the package's own types.
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink'
}

declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink'
  import type { MessagePort, Worker } from 'node:worker_threads'
  export default function nodeEndpoint (port: MessagePort | Worker): Endpoint
}
