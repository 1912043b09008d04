import express, { type Request, type Response } from 'express';
import type { Context, Document } from 'openapi-backend';
import type { Logger } from 'pino';
import { DomainError } from '../errors.js';
import { envelope, HttpError } from './errors.js';
import { failureResponse } from './failures.js';
import type { AuthConfig } from '../config.js';
import { authorize, readIdentity, type AuthDecision, type Identity, type Principal } from './auth.js';
import type { EventStream, EventStreamWriter, RequestContext } from './handler-types.js';
import { createBackend } from './openapi.js';
import { DEFAULT_MAX_BODY_BYTES, parseJsonBody, readBoundedBody } from './request-body.js';
import { malformedPathError, routablePath } from './request-path.js';

/** What a bound handler returns; the transport picks the content type from the spec. */
export interface HttpResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Set by the transport from the spec; JSON when absent. */
  contentType?: string;
}

/** Per-request facts the transport knows and the handlers need. */
export interface Transport {
  req: Request;
  /** Empty until the request is routed and admitted (see `admitRequest`). */
  rawBody: Buffer;
  bodyError?: HttpError;
  /** What openapi-backend routes and validates; the admitted body is put here. */
  routed: RoutedRequest;
  /** A path segment had escapes that do not decode. */
  pathMalformed: boolean;
  operationId?: string;
}

interface RoutedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[]>;
  body?: unknown;
}

export type SecurityCheck = (transport: Transport, context: Context) => unknown;

/** One answered request, for metrics. */
export interface AnsweredRequest {
  /** Undefined when no operation matched (404, 405) or the request never reached routing. */
  operationId?: string;
  method: string;
  status: number;
  seconds: number;
}

export interface HttpServerOptions {
  document: Document;
  logger: Logger;
  /** operationId → handler that receives the openapi-backend context. */
  handlers: Record<string, (context: Context, transport: Transport) => Promise<HttpResult>>;
  /** security scheme name → check returning a truthy value (e.g. the principal) when satisfied. */
  security: Record<string, SecurityCheck>;
  /** Builds the 401 for a request that satisfied none of its security requirements. */
  unauthorized: (context: Context, transport: Transport) => HttpResult;
  /** Express routes mounted before the contract (e.g. misrouted supervisor paths). */
  before?: (app: express.Express) => void;
  maxBodyBytes?: number;
  /** Told about every request the contract answered. */
  onAnswered?: (request: AnsweredRequest) => void;
  /** Failures that mean the database is not answering: 503 with a Retry-After instead of 500. */
  isUnavailable?: (error: unknown) => Promise<boolean>;
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** Ajv errors as `{path, message}` with paths rooted at /body, /query, /path or /header. */
export function validationDetails(errors: AjvIssue[]): { path: string; message: string }[] {
  return errors.map((issue) => {
    const path = (issue.instancePath ?? '').replace(/^\/requestBody/, '/body') || '/';
    let message = issue.message ?? 'is invalid';
    if (issue.keyword === 'additionalProperties' && issue.params?.additionalProperty) {
      message = `must not have additional property '${String(issue.params.additionalProperty)}'`;
    } else if (issue.keyword === 'required' && issue.params?.missingProperty === 'requestBody') {
      message = 'request body is required';
    } else if (issue.keyword === 'enum' && Array.isArray(issue.params?.allowedValues)) {
      message = `must be one of: ${(issue.params.allowedValues as unknown[]).join(', ')}`;
    }
    return { path, message };
  });
}

function toHttpError(error: unknown): HttpError | undefined {
  return error instanceof HttpError ? error : undefined;
}

/**
 * Frames encoded once for every stream that sends the same data object (the all-jobs stream hands
 * the same frames to each of its subscribers): the bytes, with the id and event name they carry.
 */
type FrameBytes = WeakMap<object, { id?: number; event: string; bytes: Buffer }>;

function frameText(id: number | undefined, event: string, data: unknown): string {
  const json = typeof data === 'string' ? data : JSON.stringify(data);
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`;
}

function sendEventStream(req: Request, res: Response, stream: EventStream, frames: FrameBytes, headers: Record<string, string> = {}): void {
  res.status(200);
  res.set({
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
    ...headers,
  });
  res.flushHeaders();
  const listeners: (() => void)[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const listener of listeners) listener();
  };
  req.on('close', close);
  res.on('close', close);
  const encode = (id: number | undefined, event: string, data: unknown): Buffer | string => {
    if (typeof data !== 'object' || data === null) return frameText(id, event, data);
    const known = frames.get(data);
    if (known && known.id === id && known.event === event) return known.bytes;
    const bytes = Buffer.from(frameText(id, event, data), 'utf8');
    frames.set(data, { id, event, bytes });
    return bytes;
  };
  // Frames written in one turn (a read's batch) leave in one write.
  let corked = false;
  const cork = () => {
    if (corked) return;
    corked = true;
    res.cork();
    process.nextTick(() => {
      corked = false;
      res.uncork();
    });
  };
  const writer: EventStreamWriter = {
    event({ id, event, data }) {
      if (closed) return;
      cork();
      res.write(encode(id, event, data));
    },
    comment(text) {
      if (!closed) res.write(`: ${text}\n\n`);
    },
    get closed() {
      return closed;
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
  };
  writer.comment('keep-alive');
  stream
    .run(writer)
    .catch(() => undefined)
    .finally(() => {
      close();
      res.end();
    });
}

function isEventStream(value: unknown): value is EventStream {
  return typeof value === 'object' && value !== null && typeof (value as EventStream).run === 'function';
}

function documentedContentType(context: Context, status: number): string | undefined {
  const documented = context.operation.responses?.[String(status)] as { content?: Record<string, unknown> } | undefined;
  return Object.keys(documented?.content ?? {})[0];
}

/** A JSON body as sent: bytes and ETag, made once per body object (kept views come back as the same object). */
interface SerialisedJson {
  bytes: Buffer;
  etag?: string;
}

function sender(): (req: Request, res: Response, result: HttpResult) => void {
  const serialised = new WeakMap<object, SerialisedJson>();
  const frames: FrameBytes = new WeakMap();
  const json = (res: Response, body: unknown): SerialisedJson => {
    const known = typeof body === 'object' && body !== null ? serialised.get(body) : undefined;
    if (known) return known;
    const bytes = Buffer.from(JSON.stringify(body), 'utf8');
    const etagOf = res.app.get('etag fn') as ((body: Buffer) => string | undefined) | undefined;
    const made = { bytes, etag: etagOf?.(bytes) };
    if (typeof body === 'object' && body !== null) serialised.set(body, made);
    return made;
  };
  return (req, res, result) => {
    const contentType = result.contentType ?? 'application/json';
    if (contentType === 'text/event-stream' && isEventStream(result.body)) {
      // HEAD learns that the stream would open, and no stream runs for it.
      if (req.method === 'HEAD') res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', ...result.headers }).end();
      else sendEventStream(req, res, result.body, frames, result.headers);
      return;
    }
    res.status(result.status);
    if (result.headers) res.set(result.headers);
    if (result.body === undefined) {
      res.end();
    } else if (contentType === 'application/json') {
      const { bytes, etag } = json(res, result.body);
      res.set('Content-Type', 'application/json; charset=utf-8');
      if (etag) res.set('ETag', etag);
      res.send(bytes);
    } else {
      res.type(contentType).send(result.body as string | Buffer);
    }
  };
}

/**
 * Forward authentication of one request, read and decided once however many security schemes,
 * the 401 builder and the handler context ask for it.
 */
export function forwardAuthFor(config: AuthConfig) {
  const seen = new WeakMap<Transport, { identity: Identity; decision: AuthDecision }>();
  const of = (transport: Transport) => {
    let entry = seen.get(transport);
    if (!entry) {
      const identity = readIdentity(config, transport.req.headers, transport.req.socket.remoteAddress);
      entry = { identity, decision: authorize(config, identity) };
      seen.set(transport, entry);
    }
    return entry;
  };
  return {
    identity: (transport: Transport): Identity => of(transport).identity,
    decision: (transport: Transport): AuthDecision => of(transport).decision,
    /** The security-handler answer: the principal when admitted, else false. */
    check: (transport: Transport): Principal | false => {
      const { decision } = of(transport);
      return decision.ok ? decision.principal : false;
    },
  };
}

/**
 * Adapts typed handlers (which see params, query, body and deps) to openapi-backend's context.
 * Handlers never see express objects.
 */
export function bindHandlers<Deps>(
  handlers: object,
  deps: Deps,
  who: { principal(context: Context): Principal; identity(transport: Transport): Identity },
): HttpServerOptions['handlers'] {
  return Object.fromEntries(
    Object.entries(handlers).map(([operationId, handler]) => [
      operationId,
      async (context: Context, transport: Transport): Promise<HttpResult> => {
        const ctx: RequestContext<unknown, Deps> = {
          params: context.request.params as never,
          query: context.request.query as never,
          body: context.request.requestBody as never,
          rawBody: transport.rawBody,
          headers: transport.req.headers,
          principal: who.principal(context),
          identity: who.identity(transport),
          deps,
        };
        return (handler as (ctx: RequestContext<unknown, Deps>) => Promise<HttpResult>)(ctx);
      },
    ]),
  );
}

export async function createHttpServer(options: HttpServerOptions): Promise<express.Express> {
  const { logger } = options;
  const api = createBackend(options.document);

  for (const [name, check] of Object.entries(options.security)) {
    api.registerSecurityHandler(name, (context: Context, transport: Transport) => check(transport, context));
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  api.register({
    postRoutingHandler: (context: Context, transport: Transport) => {
      transport.operationId = context.operation?.operationId;
      if (context.operation) ignoreUnknownQuery(context, transport);
    },
    postSecurityHandler: (context: Context, transport: Transport) => admitRequest(context, transport, maxBodyBytes),
    notFound: async (context: Context) => {
      const { method, path } = context.request;
      return { status: 404, body: envelope('not_found', `no route for ${method.toUpperCase()} ${path}`) };
    },
    methodNotAllowed: async (context: Context) => {
      const { method, path } = context.request;
      return {
        status: 405,
        body: envelope('method_not_allowed', `method ${method.toUpperCase()} is not allowed on ${path}`),
      };
    },
    unauthorizedHandler: async (context: Context, transport: Transport) => options.unauthorized(context, transport),
    validationFail: async (context: Context, transport: Transport) => {
      if (context.operation.requestBody && transport.bodyError) throw transport.bodyError;
      const errors = validationDetails((context.validation.errors ?? []) as AjvIssue[]);
      const first = errors[0];
      const message = first ? `invalid request: ${first.path} ${first.message}` : 'invalid request';
      return { status: 400, body: envelope('invalid_argument', message, { errors }) };
    },
  });
  for (const [operationId, handler] of Object.entries(options.handlers)) {
    api.register(operationId, async (context: Context, transport: Transport) => {
      // `x-dockrev-raw-body`: the handler reads the raw bytes itself (a signed webhook decides on
      // headers and signature before it looks at the body), so a body that is not JSON reaches it.
      const rawBodyOperation = (context.operation as { 'x-dockrev-raw-body'?: unknown })['x-dockrev-raw-body'] === true;
      if (context.operation.requestBody && transport.bodyError && !rawBodyOperation) throw transport.bodyError;
      const result = await handler(context, transport);
      return { ...result, contentType: documentedContentType(context, result.status) };
    });
  }
  await api.init();

  const send = sender();
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  options.before?.(app);

  app.use(async (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    const { path, malformed } = routablePath(req.path);
    const routed: RoutedRequest = {
      // HEAD is answered as GET is, without the body (express leaves it out).
      method: req.method === 'HEAD' ? 'GET' : req.method,
      path,
      query: { ...(req.query as Record<string, string | string[]>) },
      headers: req.headers as Record<string, string | string[]>,
    };
    const transport: Transport = { req, rawBody: Buffer.alloc(0), routed, pathMalformed: malformed };
    let result: HttpResult;
    try {
      result = (await api.handleRequest(routed, transport)) as HttpResult;
    } catch (error) {
      const known = toHttpError(error);
      if (known) {
        result = { status: known.status, body: known.body };
        // A body refused part-way is not read further: the connection goes with it.
        if (known.status === 413) result.headers = { Connection: 'close' };
      } else if (error instanceof DomainError) {
        result = failureResponse(error);
      } else if (await options.isUnavailable?.(error)) {
        logger.warn({ err: error, method: req.method, path: req.path }, 'request failed: the database is not answering');
        result = unavailableResponse();
      } else {
        logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
        result = { status: 500, body: envelope('internal', 'internal error') };
      }
    }
    send(req, res, result);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    options.onAnswered?.({ operationId: transport.operationId, method: req.method, status: result.status, seconds });
    logger.debug({ method: req.method, path: req.path, status: result.status, ms: seconds * 1000 }, 'request');
  });

  return app;
}

const RETRY_AFTER_SECONDS = 5;

function unavailableResponse(): HttpResult {
  return {
    status: 503,
    headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    body: envelope('unavailable', 'the database is not answering; try again shortly', { retryAfterSeconds: RETRY_AFTER_SECONDS }),
  };
}

// Per operation object (routing hands out the same one each time), so a request builds no set.
const declaredQuery = new WeakMap<object, Set<string | undefined>>();

function declaredQueryOf(operation: Context['operation']): Set<string | undefined> {
  let declared = declaredQuery.get(operation);
  if (!declared) {
    const parameters = (operation.parameters ?? []) as { in?: string; name?: string }[];
    declared = new Set(parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name));
    declaredQuery.set(operation, declared);
  }
  return declared;
}

/**
 * Query parameters the operation does not declare are ignored (cache-busters, tracking tags), so
 * that only bad values of known ones are refused.
 */
function ignoreUnknownQuery(context: Context, transport: Transport): void {
  const declared = declaredQueryOf(context.operation);
  for (const query of [transport.routed.query, context.request.query as Record<string, unknown>]) {
    for (const name of Object.keys(query)) if (!declared.has(name)) delete query[name];
  }
}

/**
 * Runs once security has been decided: an admitted request (or one to a public operation) gets
 * its path checked and its body read, up to the limit; a refused one is answered 401 by the
 * unauthorized handler without a byte of its body read.
 */
async function admitRequest(context: Context, transport: Transport, maxBodyBytes: number): Promise<void> {
  const requirements = (context.operation.security ?? []) as unknown[];
  if (requirements.length > 0 && !context.security?.authorized) return;
  if (transport.pathMalformed) throw malformedPathError(transport.req.path);
  if (!context.operation.requestBody) return;
  transport.rawBody = await readBoundedBody(transport.req, maxBodyBytes);
  const parsed = parseJsonBody(transport.req.headers['content-type'], transport.rawBody);
  transport.bodyError = parsed.error;
  transport.routed.body = parsed.value;
  context.request.requestBody = parsed.value;
}
