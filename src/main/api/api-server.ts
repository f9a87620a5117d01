// The HTTP API (SPEC section 8) on fastify. The routes are a table (api-routes.ts); this file
// is the plumbing every route shares: raw bodies of at most 8 MiB, methods, the one error
// shape {"error": {code, message}} with its status from api-errors.ts, the readable 413, and
// per-route metrics. No request can crash the node.
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { errorCode, errorMessage } from '../../shared/errors.js'
import { submissionFormat } from '../../shared/submission-codec.js'
import type { ApiAddress } from '../config.js'
import type { Logger } from '../logger.js'
import { ApiError, errorBody, type ApiErrorCode } from './api-errors.js'
import { apiRoutes, routeLabel, type ApiRoute, type RouteAnswer } from './api-routes.js'
import type { ApiBackend } from './backend.js'
import { answerAndDrain } from './refused-body.js'

/** SPEC 8: a request body holds at most 8 MiB. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024
/** The rest of a refused body that is read and dropped, and for how long (refused-body.ts). */
const DISCARD_LIMITS = { maxBytes: 2 * MAX_BODY_BYTES, maxMs: 5_000 }
/** Every method a route answers, if only with 405. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const
const EMPTY_BODY = new Uint8Array(0)
/** The label of requests no route matched. */
const UNKNOWN_ROUTE = 'unknown'

export interface ApiServerModules {
  backend: ApiBackend
  logger: Logger
  onRequest?: (route: string, status: number) => void
}

interface RouteConfig {
  label: string
}

export class ApiServer {
  private app: FastifyInstance | undefined

  constructor (private readonly address: ApiAddress, private readonly modules: ApiServerModules) {}

  /** The bound address (port 0 resolves to the one the OS chose). */
  get boundAddress (): ApiAddress | undefined {
    const info = this.app?.server.address() as AddressInfo | null | undefined
    return info == null ? undefined : { host: info.address, port: info.port }
  }

  async start (): Promise<void> {
    if (this.app !== undefined) return
    const app = this.build()
    await app.listen({ host: this.address.host, port: this.address.port })
    this.app = app
  }

  async stop (): Promise<void> {
    const app = this.app
    if (app === undefined) return
    this.app = undefined
    // Idle connections close at once; requests in flight get a moment, then their connections go.
    const force = setTimeout(() => app.server.closeAllConnections(), 2000)
    await app.close()
    clearTimeout(force)
  }

  private build (): FastifyInstance {
    const app = Fastify({
      logger: false,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
      bodyLimit: MAX_BODY_BYTES,
      exposeHeadRoutes: false,
      // Requests that arrive while the server closes are answered as usual.
      return503OnClosing: false,
      routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 1024 },
      frameworkErrors: (err, request, reply) => { this.fail(request, reply, err) }
    })
    app.server.headersTimeout = 10_000
    // Bodies stay bytes: a submission is parsed in the pool, never here.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) => { done(null, body) })
    // fastify answers 415 to a content type it cannot parse; SPEC 8 reads any other or no type
    // as JSON, so the header is replaced by the format it names before fastify reads it.
    app.addHook('onRequest', (request, _reply, done) => {
      const contentType = request.headers['content-type']
      if (contentType !== undefined) request.raw.headers['content-type'] = submissionFormat(contentType) === 'msgpack' ? 'application/msgpack' : 'application/json'
      done()
    })
    app.setErrorHandler((err, request, reply) => { this.fail(request, reply, err) })
    app.setNotFoundHandler((request, reply) => { this.fail(request, reply, new ApiError('NOT_FOUND', `no route ${request.url.split('?')[0]}`)) })
    const byPath = new Map<string, ApiRoute[]>()
    for (const route of apiRoutes(this.modules.backend)) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route])
    for (const [path, routes] of byPath) this.register(app, path, routes)
    return app
  }

  /** One fastify route per path, answering every method: those it has no handler for get 405. */
  private register (app: FastifyInstance, path: string, routes: ApiRoute[]): void {
    const config: RouteConfig = { label: routeLabel(path) }
    const allowed = routes.map(r => r.method).join(', ')
    app.route({
      method: [...METHODS],
      url: path,
      config,
      handler: async (request, reply) => {
        const route = routes.find(r => r.method === request.method)
        if (route === undefined) throw new ApiError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use ${allowed}`)
        const answer = await route.handle({
          params: request.params as Record<string, string | undefined>,
          query: request.query as Record<string, string | string[] | undefined>,
          body: request.body instanceof Uint8Array ? request.body : EMPTY_BODY,
          contentType: request.headers['content-type'],
          headers: request.headers
        })
        this.send(request, reply, answer)
      }
    })
  }

  private send (request: FastifyRequest, reply: FastifyReply, answer: RouteAnswer): void {
    if ('stream' in answer) {
      // The route writes the raw response itself for as long as it lives (the event stream).
      this.count(request, answer.status)
      reply.hijack()
      answer.stream(reply.raw)
      return
    }
    if ('bytes' in answer) {
      const fresh = request.headers['if-none-match'] === answer.etag
      this.count(request, fresh ? 304 : answer.status)
      reply.header('etag', answer.etag).header('cache-control', answer.cacheControl)
      if (fresh) reply.code(304).send()
      else reply.code(answer.status).header('content-type', answer.contentType).send(Buffer.from(answer.bytes.buffer, answer.bytes.byteOffset, answer.bytes.byteLength))
      return
    }
    this.count(request, answer.status)
    if ('json' in answer) reply.code(answer.status).header('content-type', 'application/json').send(JSON.stringify(answer.json))
    else reply.code(answer.status).header('content-type', answer.contentType).send(answer.text)
  }

  /** Metrics by route pattern (bounded labels), counted as each answer is written. */
  private count (request: FastifyRequest, status: number): void {
    const config = request.routeOptions.config as Partial<RouteConfig>
    this.modules.onRequest?.(config.label ?? UNKNOWN_ROUTE, status)
  }

  /** Writes an error answer: its status from the code, and a readable 413. */
  private fail (request: FastifyRequest, reply: FastifyReply, err: unknown): void {
    const error = toApiError(err)
    if (error.code === 'INTERNAL') {
      this.modules.logger.error({ err: errorMessage(err), code: errorCode(err), path: request.url.split('?')[0] }, 'API request failed')
    }
    if (reply.sent) {
      reply.raw.destroy()
      return
    }
    this.count(request, error.status)
    if (error.code === 'BODY_TOO_LARGE') {
      // Written on the raw response, whose end waits for the rest of the body.
      reply.hijack()
      answerAndDrain(request.raw, reply.raw, error.status, errorBody(error.code, error.message), DISCARD_LIMITS)
      return
    }
    reply.code(error.status).header('content-type', 'application/json').send(errorBody(error.code, error.message))
  }
}

/** What fastify or a handler threw, as one of the API's answers. */
function toApiError (err: unknown): ApiError {
  if (err instanceof ApiError) return err
  // The pool's bounded queues (admissions, and reads: block renders and proof trees).
  if (errorCode(err) === 'ERR_POOL_OVERLOADED') return new ApiError('OVERLOADED', 'the node is overloaded; retry later')
  const fastifyError = err as Partial<FastifyError>
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError('BODY_TOO_LARGE', `a request body holds at most ${MAX_BODY_BYTES} bytes`)
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code: ApiErrorCode = status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST'
    return new ApiError(code, fastifyError.message ?? 'bad request')
  }
  return new ApiError('INTERNAL', 'internal error')
}
