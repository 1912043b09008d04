import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:net';
import { contract, startApi, type Api } from './harness.js';
import { jsonOf, rawRequest, type RawAnswer } from './raw-http.js';

// Regression tests for issue 15's transport defects: each case answered 500, 400 or hung before.

const operations = [...contract.operations.values()];
const withPathParams = operations.filter((op) => op.path.includes('{'));
const protectedWithBody = operations.filter((op) => op.requestBody && op.securitySchemes.includes('forwardAuth'));
const MIB = 1024 * 1024;

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function pathWith(op: (typeof operations)[number], segment: string): string {
  return op.path.replace(/\{\w+\}/g, segment);
}

function head(method: string, path: string, headers: Record<string, string | number> = {}): string {
  const lines = Object.entries({ Host: '127.0.0.1', Connection: 'close', ...headers }).map(([name, value]) => `${name}: ${value}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

function assertEnvelope(answer: RawAnswer, status: number, code: string, label: string) {
  assert.equal(answer.status, status, `${label}: ${answer.status} ${answer.body}`);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/, label);
  assert.equal(jsonOf(answer).error.code, code, label);
  const problems = contract.checkResponse('getHealth', 500, 'application/json', jsonOf(answer)).filter((problem) => !problem.includes('status'));
  assert.deepEqual(problems, [], label);
}

describe('transport hardening under an allowlist', () => {
  let api: Api;
  let port: number;
  before(async () => {
    api = await startApi({ env: { DOCKREV_AUTH_ALLOWED_USER: 'ops' }, timeouts: { headersTimeoutMs: 1500, requestTimeoutMs: 3000, checkIntervalMs: 250, keepAliveTimeoutMs: 1000 } });
    port = portOf(await api.listen());
  });
  after(() => api.close());

  describe('malformed percent-escapes in the path (defect 1)', () => {
    for (const op of withPathParams) {
      it(`${op.operationId}: 401 without identity, then 400 in the envelope`, async () => {
        for (const segment of ['%ZZ', '%', '%E0%A4%A']) {
          const method = op.method.toUpperCase();
          const body = op.requestBody ? '{}' : '';
          const headers: Record<string, string | number> = body ? { 'Content-Type': 'application/json', 'Content-Length': body.length } : {};
          const anonymous = await rawRequest(port, head(method, pathWith(op, segment), headers), body);
          assertEnvelope(anonymous, 401, 'auth_required', `${op.operationId} ${segment} anonymous`);
          const admitted = await rawRequest(port, head(method, pathWith(op, segment), { ...headers, 'X-Forwarded-User': 'ops' }), body);
          assertEnvelope(admitted, 400, 'invalid_argument', `${op.operationId} ${segment} admitted`);
          assert.deepEqual(contract.checkResponse(op.operationId, 400, admitted.headers['content-type'], jsonOf(admitted)), []);
        }
      });
    }

    it('an unknown route with a bad escape is a 404', async () => {
      assertEnvelope(await rawRequest(port, head('GET', '/api/no-such/%ZZ', { 'X-Forwarded-User': 'ops' })), 404, 'not_found', 'unknown route');
    });
  });

  describe('the body limit comes after routing and authentication (defect 2)', () => {
    const huge = Buffer.alloc(MIB + 100 * 1024, 'x');

    for (const op of protectedWithBody) {
      it(`${op.operationId}: 401 for an unauthenticated 1.1 MB body, 413 once admitted`, async () => {
        const path = pathWith(op, 'x1');
        const method = op.method.toUpperCase();
        const sized = { 'Content-Type': 'application/json', 'Content-Length': huge.length };
        assertEnvelope(await rawRequest(port, head(method, path, sized), huge), 401, 'auth_required', 'anonymous');
        const refused = await rawRequest(port, head(method, path, { ...sized, 'X-Forwarded-User': 'ops' }), huge);
        assertEnvelope(refused, 413, 'payload_too_large', 'admitted');
        assert.deepEqual(contract.checkResponse(op.operationId, 413, refused.headers['content-type'], jsonOf(refused)), []);
      });
    }

    it('an unknown route with a 1.1 MB body is a 404', async () => {
      const answer = await rawRequest(port, head('POST', '/api/no-such-route', { 'Content-Type': 'application/json', 'Content-Length': huge.length, 'X-Forwarded-User': 'ops' }), huge);
      assertEnvelope(answer, 404, 'not_found', 'unknown route');
    });

    it('reads a chunked body no further than the limit', async () => {
      const chunk = Buffer.alloc(64 * 1024, 'y');
      const framed = Buffer.concat(Array.from({ length: 512 }, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])));
      const answer = await rawRequest(
        port,
        head('PUT', '/api/deploy-welcome', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'X-Forwarded-User': 'ops' }),
        framed,
      );
      assertEnvelope(answer, 413, 'payload_too_large', 'chunked');
      // 32 MiB offered: the answer came once the first MiB was in, and the connection closed with
      // it (what the client wrote beyond that sat in socket buffers).
      assert.ok(answer.written < 16 * MIB, `the client wrote ${answer.written} bytes`);
    });

    it('still takes a body just under the limit', async () => {
      const padded = `{"neverAutoOpen":true${' '.repeat(MIB - 100)}}`;
      const response = await api.call('putDeployWelcome', { user: 'ops', rawBody: padded });
      assert.equal(response.status, 200);
    });
  });

  describe('query parameters (defect 3)', () => {
    it('ignores unknown ones, cache-busters included', async () => {
      assert.equal((await api.call('getHealth', { query: { ts: Date.now() } })).status, 200);
      assert.equal((await api.call('listStacks', { user: 'ops', query: { archivd: 'only', _: '1' } })).status, 200);
      assert.equal((await api.call('listJobs', { user: 'ops', query: { limit: 5, utm_source: 'mail' } })).status, 200);
    });

    it('still refuses bad values of known ones', async () => {
      const response = await api.call('listJobs', { user: 'ops', query: { limit: 'many', ts: 1 } });
      assert.equal(response.status, 400);
      assert.deepEqual(response.body.error.details.errors.map((error: { path: string }) => error.path), ['/query/limit']);
    });
  });

  describe('the listener (defect 5)', () => {
    it('answers HEAD on GET routes like GET, without a body', async () => {
      for (const path of ['/api/health', '/api/stacks', '/api/settings']) {
        const get = await rawRequest(port, head('GET', path, { 'X-Forwarded-User': 'ops' }));
        const headAnswer = await rawRequest(port, head('HEAD', path, { 'X-Forwarded-User': 'ops' }));
        assert.equal(headAnswer.status, get.status, path);
        assert.equal(headAnswer.headers['content-type'], get.headers['content-type'], path);
        assert.equal(headAnswer.body, '', path);
      }
      const anonymous = await rawRequest(port, head('HEAD', '/api/stacks'));
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body, '');
    });

    it('answers HEAD on a stream without opening it', async () => {
      const answer = await rawRequest(port, head('HEAD', '/api/jobs/events', { 'X-Forwarded-User': 'ops' }), '', { timeoutMs: 3000 });
      assert.equal(answer.status, 200);
      assert.match(answer.headers['content-type'] ?? '', /^text\/event-stream/);
    });

    it("answers Node's parser refusals in the envelope", async () => {
      assertEnvelope(await rawRequest(port, 'NOT A REQUEST\r\n\r\n'), 400, 'invalid_argument', 'garbage');
      const bigHeader = head('GET', '/api/health', { 'X-Filler': 'f'.repeat(20 * 1024) });
      assertEnvelope(await rawRequest(port, bigHeader), 431, 'invalid_argument', 'header overflow');
      const badLength = 'POST /api/checks HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello';
      assertEnvelope(await rawRequest(port, badLength), 400, 'invalid_argument', 'duplicate content-length');
    });

    it('closes a socket whose headers never finish (slowloris) and an idle one', async () => {
      const closedAfter = (payload: string) =>
        new Promise<number>((resolve, reject) => {
          const started = Date.now();
          const socket = connect(port, '127.0.0.1', () => socket.write(payload));
          socket.on('data', () => undefined);
          socket.on('close', () => resolve(Date.now() - started));
          socket.on('error', () => undefined);
          setTimeout(() => reject(new Error('socket still open after 15 s')), 15_000).unref();
        });
      const slow = await closedAfter('GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      assert.ok(slow < 10_000, `slow headers closed after ${slow} ms`);
      const idle = await closedAfter('');
      assert.ok(idle < 10_000, `idle socket closed after ${idle} ms`);
    });
  });
});
