import type { IncomingHttpHeaders } from 'node:http';
import type { operations } from '../generated/dockrev.js';
import type { Identity, Principal } from './auth.js';
import type { AppDeps } from './deps.js';

export type OperationId = keyof operations;

type ResponsesOf<Op> = Op extends { responses: infer R } ? R : never;

/** The body type a documented response carries, by its content type. */
type BodyOf<R> = R extends { content: { 'application/json': infer B } }
  ? B
  : R extends { content: { 'text/plain': infer T } }
    ? T
    : R extends { content: { 'text/html': infer H } }
      ? H
      : R extends { content: { 'text/event-stream': unknown } }
        ? EventStream
        : R extends { content: { 'image/png': unknown } }
          ? Buffer
          : undefined;

/** Exactly the (status, body) pairs the spec documents for an operation. */
export type HandlerResult<Op> = {
  [S in keyof ResponsesOf<Op>]: { status: S; body: BodyOf<ResponsesOf<Op>[S]>; headers?: Record<string, string> };
}[keyof ResponsesOf<Op>];

type JsonBodyOf<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : Op extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B | undefined
    : undefined;

type ParamsOf<Op, In extends 'path' | 'query'> = Op extends { parameters: { [K in In]?: infer P } }
  ? [P] extends [never | undefined]
    ? Record<string, never>
    : NonNullable<P>
  : Record<string, never>;

export interface RequestContext<Op, Deps = AppDeps> {
  params: ParamsOf<Op, 'path'>;
  query: ParamsOf<Op, 'query'>;
  body: JsonBodyOf<Op>;
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  /** Who made the request (forward-auth routes); webhook routes carry their own identity. */
  principal: Principal;
  /** The forwarded identity headers, as far as the peer is trusted to send them. */
  identity: Identity;
  deps: Deps;
}

export type Handler<Op, Deps = AppDeps> = (ctx: RequestContext<Op, Deps>) => Promise<HandlerResult<Op>>;

/** One handler per operation of a generated `operations` type. */
export type HandlerMapOf<Operations, Deps> = { [K in keyof Operations]: Handler<Operations[K], Deps> };

export type HandlerMap = HandlerMapOf<operations, AppDeps>;

/** A live Server-Sent Events stream; the transport calls `run` with a writer once headers are sent. */
export interface EventStream {
  run(writer: EventStreamWriter): Promise<void>;
}

export interface EventStreamWriter {
  event(frame: { id?: number; event: string; data: unknown }): void;
  comment(text: string): void;
  readonly closed: boolean;
  onClose(listener: () => void): void;
}
