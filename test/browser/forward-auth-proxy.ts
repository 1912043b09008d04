// The reverse proxy in front of Dockrev, as in a real deployment: it adds the forward-auth
// identity header to every request, and the tests can make it send another identity or none,
// cut every open connection (a dropped SSE stream), or go away and come back on the same port.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export class ForwardAuthProxy {
  /** The X-Forwarded-User to send; undefined sends none. */
  user: string | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  constructor(
    private readonly upstreamPort: number,
    user: string | undefined,
  ) {
    this.user = user;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens on a free port the first time, on the same one afterwards. */
  async start(): Promise<void> {
    const server = createServer((req, res) => this.forward(req, res));
    server.on('connection', (socket) => this.track(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Drops every open connection (browser ↔ proxy and proxy ↔ API) but keeps listening. */
  cutConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Stops listening and drops every connection: the API is unreachable until start(). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.cutConnections();
    await closed;
  }

  private track(socket: Socket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const headers = { ...req.headers };
    delete headers['x-forwarded-user'];
    if (this.user) headers['x-forwarded-user'] = this.user;
    const upstream = request({ host: '127.0.0.1', port: this.upstreamPort, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      res.on('close', () => answer.destroy());
    });
    // Keep-alive sockets carry many requests: track each once.
    upstream.on('socket', (socket) => this.track(socket));
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway');
      else res.destroy();
    });
    req.pipe(upstream);
  }
}
