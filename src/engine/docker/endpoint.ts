/** Where the Docker engine listens. */
export type DockerEndpoint = { kind: 'socket'; socketPath: string } | { kind: 'tcp'; host: string; port: number };

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * Parses a `DOCKER_HOST` value: `unix:///path/to/docker.sock` or `tcp://host:port` (plain HTTP);
 * empty means the default socket. TLS and SSH transports are not supported.
 */
export function parseDockerHost(raw: string | undefined): DockerEndpoint {
  const value = raw?.trim();
  if (!value) return { kind: 'socket', socketPath: DEFAULT_DOCKER_SOCKET };
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new Error(`DOCKER_HOST '${value}': expected unix:///absolute/path/to/docker.sock`);
    return { kind: 'socket', socketPath };
  }
  const tcp = /^(?:tcp|http):\/\/(\[[0-9a-fA-F:.]+\]|[^:/\s]+)(?::(\d{1,5}))?\/?$/.exec(value);
  if (tcp) {
    const port = tcp[2] === undefined ? 2375 : Number(tcp[2]);
    if (port < 1 || port > 65535) throw new Error(`DOCKER_HOST '${value}': port out of range`);
    return { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port };
  }
  throw new Error(`DOCKER_HOST '${value}' is not supported: use unix:///path/to/docker.sock or tcp://host:port`);
}

export function describeEndpoint(endpoint: DockerEndpoint): string {
  return endpoint.kind === 'socket' ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
}
