// A fake registry per test and a client for it, shared by the registry client's test files.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after } from 'node:test';
import { RegistryClient, type RegistryClientOptions } from '../client.js';
import { DockerCredentials } from '../credentials.js';
import { RegistryError, type RegistryErrorKind } from '../errors.js';
import type { RepositoryRef } from '../reference.js';
import { FakeRegistry, type FakeAuth } from './fake-registry.js';

export const FAST_RETRY = { maxAttempts: 3, baseMs: 10, maxMs: 2000 };

const registries: FakeRegistry[] = [];
after(async () => {
  for (const registry of registries) await registry.close();
});

/** Registers its own clean-up in the calling test file. */
export async function fakeRegistry(auth?: FakeAuth): Promise<FakeRegistry> {
  const registry = await FakeRegistry.start(auth);
  registries.push(registry);
  return registry;
}

export function repo(registry: FakeRegistry, repository: string): RepositoryRef {
  return { registry: registry.host, repository };
}

export function credentialsFor(registry: FakeRegistry, username: string, password: string): DockerCredentials {
  return new DockerCredentials(new Map([[registry.host, { username, password }]]));
}

export function client(options: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient({ retry: FAST_RETRY, ...options });
}

export async function rejectsWith(promise: Promise<unknown>, kind: RegistryErrorKind, message?: RegExp): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RegistryError, `expected a RegistryError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected a ${kind} RegistryError`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

