// A local stand-in for Quay, written from Red Hat Quay's API guide (repositorynotification:
// list, create, get, delete, reset failures, test; OAuth bearer tokens) and its repository
// notifications chapter (the `repo_push` event data, delivered by the `webhook` method as a JSON
// POST to the configured URL). It records every API call, delivers pushes and test notifications
// to the configured URLs, and counts failed deliveries as Quay does (`number_of_failures`).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface QuayDoubleNotification {
  id: number;
  uuid: string;
  title: string | null;
  event: string;
  method: string;
  config: Record<string, unknown>;
  event_config: Record<string, unknown>;
  number_of_failures: number;
}

export interface QuayApiCall {
  method: string;
  /** The path after `/api/v1`. */
  path: string;
  repository?: string;
  body?: unknown;
  status: number;
}

export interface QuayDelivery {
  url: string;
  status?: number;
  error?: string;
  body: Record<string, unknown>;
}

export interface QuayDoubleOptions {
  /** The OAuth token the API accepts (`Authorization: Bearer …`). */
  oauthToken: string;
  /** SERVER_HOSTNAME: the host in `docker_url` of event data. */
  serverHostname: string;
}

const NOTIFICATION_PATH = /^\/api\/v1\/repository\/([^/]+)\/([^/]+)\/notification\/(?:([^/]+)(\/test)?)?$/;

export class QuayDouble {
  readonly calls: QuayApiCall[] = [];
  readonly deliveries: QuayDelivery[] = [];
  private readonly notifications = new Map<string, QuayDoubleNotification[]>();
  private nextId = 1;
  private server?: Server;
  private port = 0;
  private readonly pending = new Set<Promise<void>>();

  private constructor(private readonly options: QuayDoubleOptions) {}

  static async start(options: QuayDoubleOptions): Promise<QuayDouble> {
    const double = new QuayDouble(options);
    double.server = createServer((req, res) => void double.handle(req, res));
    await new Promise<void>((resolve) => double.server!.listen(0, '127.0.0.1', resolve));
    double.port = (double.server.address() as AddressInfo).port;
    return double;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await this.idle();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** The notifications of `namespace/name`, as Quay lists them. */
  list(repository: string): QuayDoubleNotification[] {
    return this.notifications.get(repository) ?? [];
  }

  /** A notification someone else made (another tool, a person in the UI). */
  add(repository: string, fields: Partial<QuayDoubleNotification> & Pick<QuayDoubleNotification, 'event' | 'method' | 'config'>): QuayDoubleNotification {
    const notification: QuayDoubleNotification = {
      id: this.nextId++,
      uuid: randomUUID(),
      title: null,
      event_config: {},
      number_of_failures: 0,
      ...fields,
    };
    this.notifications.set(repository, [...this.list(repository), notification]);
    return notification;
  }

  setFailures(repository: string, uuid: string, failures: number): void {
    const found = this.list(repository).find((notification) => notification.uuid === uuid);
    if (!found) throw new Error(`no notification ${uuid} on ${repository}`);
    found.number_of_failures = failures;
  }

  callsOf(method: string, kind: 'list' | 'create' | 'delete' | 'test' | 'reset' | 'get'): QuayApiCall[] {
    return this.calls.filter((call) => call.method === method && kindOf(call) === kind);
  }

  /** A push of tags to a repository: its `repo_push` webhook notifications are delivered. */
  async push(repository: string, tags: string[]): Promise<QuayDelivery[]> {
    const targets = this.list(repository).filter((notification) => notification.event === 'repo_push' && notification.method === 'webhook');
    return Promise.all(targets.map((notification) => this.deliver(notification, this.eventData(repository, { updated_tags: tags }))));
  }

  /** Resolves when every queued delivery (tests of notifications) has been sent. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** build_repository_event_data of Quay's notifications package. */
  private eventData(repository: string, extra: Record<string, unknown>): Record<string, unknown> {
    const [namespace, name] = repository.split('/');
    return {
      repository,
      namespace,
      name,
      docker_url: `${this.options.serverHostname}/${repository}`,
      homepage: `http://${this.options.serverHostname}/repository/${repository}`,
      ...extra,
    };
  }

  private async deliver(notification: QuayDoubleNotification, body: Record<string, unknown>): Promise<QuayDelivery> {
    const url = String(notification.config.url);
    const delivery: QuayDelivery = { url, body };
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      delivery.status = response.status;
      await response.arrayBuffer();
      if (!response.ok) notification.number_of_failures += 1;
    } catch (error) {
      delivery.error = (error as Error).message;
      notification.number_of_failures += 1;
    }
    this.deliveries.push(delivery);
    return delivery;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const answer = (status: number, body?: unknown) => {
      const repository = NOTIFICATION_PATH.exec(path);
      this.calls.push({ method, path: path.replace(/^\/api\/v1/, ''), repository: repository ? `${decodeURIComponent(repository[1]!)}/${decodeURIComponent(repository[2]!)}` : undefined, body: raw ? safeJson(raw) : undefined, status });
      res.statusCode = status;
      if (body === undefined) {
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    const apiError = (status: number, message: string) => answer(status, { status, error_message: message, title: message, type: 'about:blank', detail: message });

    if (req.headers.authorization !== `Bearer ${this.options.oauthToken}`) return apiError(401, 'Requires authentication');
    const match = NOTIFICATION_PATH.exec(path);
    if (!match) return apiError(404, 'Not Found');
    const repository = `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`;
    const uuid = match[3] ? decodeURIComponent(match[3]) : undefined;
    const found = uuid ? this.list(repository).find((notification) => notification.uuid === uuid) : undefined;

    if (!uuid && method === 'GET') return answer(200, { notifications: this.list(repository) });
    if (!uuid && method === 'POST') {
      const body = safeJson(raw) as Record<string, unknown> | undefined;
      for (const field of ['event', 'method', 'config', 'eventConfig']) {
        if (!body || body[field] === undefined) return apiError(400, `'${field}' is a required property`);
      }
      const config = body!.config as Record<string, unknown>;
      if (body!.method === 'webhook' && !/^https?:\/\//.test(String(config.url ?? ''))) return apiError(400, 'Invalid webhook URL');
      const created = this.add(repository, {
        event: String(body!.event),
        method: String(body!.method),
        config,
        event_config: (body!.eventConfig as Record<string, unknown>) ?? {},
        title: typeof body!.title === 'string' ? body!.title : null,
      });
      return answer(201, created);
    }
    if (!found) return apiError(method === 'GET' ? 404 : 400, `No repository notification found for: ${repository}, ${uuid}`);
    if (match[4] && method === 'POST') {
      // testRepoNotification queues a delivery of the event's sample data.
      const sample = this.deliver(found, this.eventData(repository, { updated_tags: ['latest', 'foo'], pruned_image_count: 3 })).then(() => undefined);
      const tracked = sample.finally(() => this.pending.delete(tracked));
      this.pending.add(tracked);
      return answer(201, {});
    }
    if (method === 'GET') return answer(200, found);
    if (method === 'DELETE') {
      this.notifications.set(repository, this.list(repository).filter((notification) => notification !== found));
      return answer(204);
    }
    if (method === 'POST') {
      found.number_of_failures = 0;
      return answer(204);
    }
    return apiError(405, 'Method Not Allowed');
  }
}

function kindOf(call: QuayApiCall): string {
  const match = NOTIFICATION_PATH.exec(`/api/v1${call.path}`);
  if (!match) return 'other';
  if (!match[3]) return call.method === 'GET' ? 'list' : 'create';
  if (match[4]) return 'test';
  return call.method === 'DELETE' ? 'delete' : call.method === 'POST' ? 'reset' : 'get';
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
