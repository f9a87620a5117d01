// The route table of the HTTP API (SPEC 8): one entry per route, its path pattern (also its
// bounded metrics label) and its handler. A new route is one more entry here; the server
// (api-server.ts) does the rest: methods, bodies, errors and metrics.
import type { ServerResponse } from 'node:http'
import { fromHex } from '../../shared/bytes.js'
import { messageToJson } from '../../shared/json.js'
import { submissionFormat } from '../../shared/submission-codec.js'
import { ApiError } from './api-errors.js'
import type { ApiBackend } from './backend.js'

export interface RouteRequest {
  /** The path pattern's parameters, decoded. */
  params: Readonly<Record<string, string | undefined>>
  query: Readonly<Record<string, string | string[] | undefined>>
  /** The raw request body (at most 8 MiB), empty when there is none. */
  body: Uint8Array
  contentType: string | undefined
  /** Request headers, lowercase names. */
  headers: Readonly<Record<string, string | string[] | undefined>>
}

export type RouteAnswer =
  | { status: number, json: unknown }
  /** A body already serialised, sent as it is. */
  | { status: number, text: string, contentType: string }
  /** A file: sent with its etag, or 304 when the client holds it. */
  | { status: number, bytes: Uint8Array, contentType: string, etag: string, cacheControl: string }
  /** A long-lived answer written on the raw response (the event stream); the server only counts it. */
  | { status: number, stream: (response: ServerResponse) => void }

export interface ApiRoute {
  method: 'GET' | 'POST'
  /** A fastify path pattern (`:name` is a parameter). */
  path: string
  handle: (request: RouteRequest) => RouteAnswer | Promise<RouteAnswer>
}

/** SPEC 8: `GET /v1/blocks?from&limit` gives at most 100 blocks, 20 unless asked. */
export const MAX_BLOCKS_PER_PAGE = 100
const DEFAULT_BLOCKS_PER_PAGE = 20

/** The metrics label of a route: its pattern without the version prefix (bounded). */
export function routeLabel (path: string): string {
  return path.replace(/^\/(v1\/)?/, '') || 'index'
}

export function apiRoutes (backend: ApiBackend): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      handle: async () => {
        const metrics = await backend.metrics()
        return { status: 200, text: metrics.body, contentType: metrics.contentType }
      }
    },
    {
      method: 'POST',
      path: '/v1/messages',
      handle: async ({ body, contentType }) => {
        const outcome = await backend.submitMessages(body, submissionFormat(contentType))
        if (!outcome.ok) throw new ApiError(outcome.code, outcome.message)
        return { status: 202, json: { ids: outcome.ids } }
      }
    },
    {
      method: 'GET',
      path: '/v1/messages/:id',
      handle: async ({ params }) => {
        const text = params.id ?? ''
        const id = parseId(text)
        const found = await backend.getMessage(id)
        if (found === undefined) throw new ApiError('MESSAGE_NOT_FOUND', `no message ${text}`)
        return { status: 200, json: { message: messageToJson(found.message), height: found.height } }
      }
    },
    {
      method: 'GET',
      path: '/v1/messages/:id/proof',
      handle: async ({ params }) => {
        const text = params.id ?? ''
        const outcome = await backend.proof(parseId(text))
        if (!outcome.ok) throw new ApiError(outcome.code, outcome.code === 'MESSAGE_NOT_INCLUDED' ? `message ${text} is pending: it is in no block yet` : `no message ${text}`)
        return { status: 200, json: outcome.proof }
      }
    },
    {
      method: 'GET',
      path: '/v1/blocks',
      handle: async ({ query }) => {
        const from = parseHeight(firstValue(query.from) ?? '', 'from')
        const limitText = firstValue(query.limit)
        const limit = limitText === undefined ? DEFAULT_BLOCKS_PER_PAGE : Number(limitText)
        if (limitText !== undefined && (!/^\d{1,3}$/.test(limitText) || limit < 1 || limit > MAX_BLOCKS_PER_PAGE)) {
          throw new ApiError('INVALID_LIMIT', `limit is an integer from 1 to ${MAX_BLOCKS_PER_PAGE}`)
        }
        const blocks = await backend.renderBlocks(from, limit)
        return { status: 200, text: `{"blocks":[${blocks.join(',')}]}`, contentType: 'application/json' }
      }
    },
    {
      method: 'GET',
      path: '/v1/events',
      handle: ({ query, headers }) => {
        // Last-Event-ID (the height last received) wins over ?from; either malformed is 400.
        const lastEventId = firstValue(headers['last-event-id'])
        const fromText = firstValue(query.from)
        const lastSeen = lastEventId === undefined ? undefined : parseHeight(lastEventId.trim(), 'Last-Event-ID')
        const from = fromText === undefined ? undefined : parseHeight(fromText, 'from')
        const start = lastSeen !== undefined ? lastSeen + 1 : from
        const events = backend.events
        if (events.full) throw new ApiError('TOO_MANY_STREAMS', 'this node serves as many event streams as it may; retry later')
        return { status: 200, stream: response => { events.attach(response, start) } }
      }
    },
    {
      method: 'GET',
      path: '/',
      handle: () => explorerFile(backend, 'index.html')
    },
    {
      method: 'GET',
      path: '/explorer/:file',
      handle: ({ params }) => explorerFile(backend, params.file ?? '')
    },
    {
      method: 'GET',
      path: '/v1/blocks/latest',
      handle: async ({ query }) => await renderBlock(backend, 'latest', query)
    },
    {
      method: 'GET',
      path: '/v1/blocks/:height',
      handle: async ({ params, query }) => await renderBlock(backend, parseHeight(params.height ?? ''), query)
    },
    {
      method: 'GET',
      path: '/v1/status',
      handle: () => ({ status: 200, json: backend.status() })
    }
  ]
}

async function renderBlock (backend: ApiBackend, height: number | 'latest', query: RouteRequest['query']): Promise<RouteAnswer> {
  const json = await backend.renderBlock(height, ['1', 'true'].includes(firstValue(query.messages) ?? ''))
  if (json === null) throw new ApiError('BLOCK_NOT_FOUND', `no block at height ${height}`)
  return { status: 200, text: json, contentType: 'application/json' }
}

function parseHeight (text: string, what = 'a height'): number {
  const height = Number(text)
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(height)) throw new ApiError('INVALID_HEIGHT', `${what} is a height: a non-negative safe integer`)
  return height
}

function parseId (text: string): Uint8Array {
  const id = fromHex(text, 32)
  if (id === undefined) throw new ApiError('INVALID_ID', 'a message id is 64 hex characters')
  return id
}

function explorerFile (backend: ApiBackend, name: string): RouteAnswer {
  const asset = backend.explorerAsset(name)
  if (asset === undefined) {
    throw new ApiError('NOT_FOUND', name === 'index.html' ? 'the explorer is not built: run npm run build' : `no explorer file ${name}`)
  }
  // The page is small and changes with the node's version: revalidated each time (304 when unchanged).
  return { status: 200, bytes: asset.body, contentType: asset.contentType, etag: asset.etag, cacheControl: 'no-cache' }
}

function firstValue (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
