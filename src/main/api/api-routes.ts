// The route table of the HTTP API (SPEC 8): one entry per route, its path pattern (also its
// bounded metrics label) and its handler. A new route is one more entry here; the server
// (api-server.ts) does the rest: methods, bodies, errors and metrics.
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
}

export type RouteAnswer =
  | { status: number, json: unknown }
  /** A body already serialised, sent as it is. */
  | { status: number, text: string, contentType: string }

export interface ApiRoute {
  method: 'GET' | 'POST'
  /** A fastify path pattern (`:name` is a parameter). */
  path: string
  handle: (request: RouteRequest) => RouteAnswer | Promise<RouteAnswer>
}

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
      handle: ({ params }) => {
        const text = params.id ?? ''
        const id = fromHex(text, 32)
        if (id === undefined) throw new ApiError('INVALID_ID', 'a message id is 64 hex characters')
        const found = backend.getMessage(id)
        if (found === undefined) throw new ApiError('MESSAGE_NOT_FOUND', `no message ${text}`)
        return { status: 200, json: { message: messageToJson(found.message), height: found.height } }
      }
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

function parseHeight (text: string): number {
  const height = Number(text)
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(height)) throw new ApiError('INVALID_HEIGHT', 'a height is a non-negative safe integer')
  return height
}

function firstValue (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
