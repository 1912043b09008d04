// A transparent Docker API proxy on a unix socket for the benchmark: the server under test talks
// to the engine through it, so every Docker query of a check is counted and timed.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rm } from 'node:fs/promises';

export interface DockerCall {
  method: string;
  /** Path with the API version and ids folded: "GET containers/json", "GET images/{id}/json". */
  op: string;
  startMs: number;
  endMs: number;
  status: number;
}

/** "/v1.41/containers/abc…/json?filters=…" → "containers/{id}/json". */
export function dockerOp(url: string): string {
  const path = (url.split('?')[0] ?? '').replace(/^\/v\d+(\.\d+)?/, '').replace(/^\/+/, '');
  const parts = path.split('/');
  if ((parts[0] === 'containers' || parts[0] === 'images' || parts[0] === 'networks' || parts[0] === 'volumes') && parts.length >= 3) {
    // images/<name with slashes>/json: everything between the collection and the last part is the id
    return `${parts[0]}/{id}/${parts[parts.length - 1]}`;
  }
  return path;
}

export class DockerProxy {
  readonly calls: DockerCall[] = [];
  private server?: Server;

  private constructor(
    readonly socketPath: string,
    private readonly upstreamSocket: string,
    private readonly onlyLabel?: string,
  ) {}

  /**
   * Listens on `socketPath` and forwards to the engine at `dockerHost` ("unix:///path"). With
   * `onlyLabel` ("key=value"), container listings are narrowed to containers with that label, so a
   * server behind the proxy sees only the benchmark's projects on an engine that others share.
   */
  static async start(socketPath: string, dockerHost: string, onlyLabel?: string): Promise<DockerProxy> {
    if (!dockerHost.startsWith('unix://')) throw new Error(`the Docker proxy needs a unix:// DOCKER_HOST, got ${dockerHost}`);
    const proxy = new DockerProxy(socketPath, dockerHost.slice('unix://'.length), onlyLabel);
    await rm(socketPath, { force: true });
    proxy.server = createServer((req, res) => proxy.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      proxy.server!.once('error', reject);
      proxy.server!.listen(socketPath, resolve);
    });
    return proxy;
  }

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  reset(): void {
    this.calls.length = 0;
  }

  /** Calls grouped by "METHOD op" with count and total/max milliseconds. */
  summary(): Record<string, { count: number; totalMs: number; maxMs: number }> {
    const out: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
    for (const call of this.calls) {
      const key = `${call.method} ${call.op}`;
      const entry = (out[key] ??= { count: 0, totalMs: 0, maxMs: 0 });
      const ms = call.endMs - call.startMs;
      entry.count += 1;
      entry.totalMs += ms;
      entry.maxMs = Math.max(entry.maxMs, ms);
    }
    for (const entry of Object.values(out)) {
      entry.totalMs = Math.round(entry.totalMs * 10) / 10;
      entry.maxMs = Math.round(entry.maxMs * 10) / 10;
    }
    return out;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await rm(this.socketPath, { force: true });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const startMs = performance.now();
    const method = req.method ?? 'GET';
    const op = dockerOp(req.url ?? '/');
    const path = this.onlyLabel && method === 'GET' && op === 'containers/json' ? withLabelFilter(req.url ?? '/', this.onlyLabel) : req.url;
    const upstream = request({ socketPath: this.upstreamSocket, method, path, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('end', () => this.calls.push({ method, op, startMs, endMs: performance.now(), status: answer.statusCode ?? 0 }));
    });
    // A client that goes away (the server's event stream on shutdown) takes its upstream request along.
    res.on('close', () => upstream.destroy());
    upstream.on('error', () => {
      this.calls.push({ method, op, startMs, endMs: performance.now(), status: 502 });
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }
}

/** Adds `label` to the `filters` query parameter of a container listing (label filters are ANDed). */
export function withLabelFilter(url: string, label: string): string {
  const parsed = new URL(url, 'http://docker');
  const raw = parsed.searchParams.get('filters');
  const filters = (raw ? JSON.parse(raw) : {}) as Record<string, string[] | Record<string, boolean>>;
  const labels = filters.label;
  if (Array.isArray(labels)) labels.push(label);
  else if (labels && typeof labels === 'object') labels[label] = true;
  else filters.label = [label];
  parsed.searchParams.set('filters', JSON.stringify(filters));
  return `${parsed.pathname}${parsed.search}`;
}
