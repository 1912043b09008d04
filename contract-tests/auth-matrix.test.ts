// The auth matrix (issue 15): every operation × every way an identity can arrive. Protected
// operations admit exactly the allowlisted user or group, sent by a trusted peer; public ones
// never ask for forward auth. Raw requests, so that duplicate and oddly cased headers reach the
// server as sent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GithubDouble } from '../test/fixtures/github-double.js';
import { contract, recordCoverage, startApi, type Api } from './harness.js';
import { rawRequest } from './raw-http.js';
import { sampleBody, sampleQuery } from './sampler.js';

interface Case {
  name: string;
  /** Header lines as sent, duplicates allowed. */
  headers: [string, string][];
  /** Whether a protected operation admits it. */
  admitted: boolean;
  /** Served by the instance whose trusted-proxy list excludes loopback. */
  untrustedPeer?: boolean;
}

const CASES: Case[] = [
  { name: 'no identity', headers: [], admitted: false },
  { name: 'wrong user', headers: [['X-Forwarded-User', 'mallory']], admitted: false },
  { name: 'wrong group', headers: [['Remote-Groups', 'devs, guests']], admitted: false },
  { name: 'right user', headers: [['X-Forwarded-User', 'ops']], admitted: true },
  { name: 'right group', headers: [['Remote-Groups', 'devs, admins']], admitted: true },
  { name: 'right user from an untrusted peer', headers: [['X-Forwarded-User', 'ops']], admitted: false, untrustedPeer: true },
  { name: 'right group from an untrusted peer', headers: [['Remote-Groups', 'admins']], admitted: false, untrustedPeer: true },
  { name: 'header name in lower case', headers: [['x-forwarded-user', 'ops']], admitted: true },
  { name: 'header name in upper case', headers: [['X-FORWARDED-USER', 'ops']], admitted: true },
  { name: 'user in another case', headers: [['X-Forwarded-User', 'OPS']], admitted: false },
  { name: 'user header twice (ops, then mallory)', headers: [['X-Forwarded-User', 'ops'], ['X-Forwarded-User', 'mallory']], admitted: false },
  { name: 'user header twice (mallory, then ops)', headers: [['X-Forwarded-User', 'mallory'], ['X-Forwarded-User', 'ops']], admitted: false },
  { name: 'group header twice, one allowed', headers: [['Remote-Groups', 'devs'], ['Remote-Groups', 'admins']], admitted: true },
  { name: 'empty user', headers: [['X-Forwarded-User', '']], admitted: false },
];

const operations = [...contract.operations.values()];

function requestFor(op: (typeof operations)[number], headers: [string, string][]) {
  const path = op.path.replace(/\{(\w+)\}/g, (_match, name: string) => `${name}_missing`);
  const query = new URLSearchParams(Object.entries(sampleQuery(contract, op) ?? {}).map(([name, value]) => [name, String(value)]));
  const target = query.size > 0 ? `${path}?${query}` : path;
  const body = op.requestBody ? JSON.stringify(sampleBody(contract, op)) : '';
  const lines = [['Host', '127.0.0.1'], ['Connection', 'close'], ...headers, ...(body ? [['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(body))]] : [])];
  return { head: `${op.method.toUpperCase()} ${target} HTTP/1.1\r\n${lines.map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n`, body };
}

describe('auth matrix: every operation, every way an identity arrives', () => {
  let github: GithubDouble;
  let trusted: Api;
  let untrusted: Api;
  const ports = { trusted: 0, untrusted: 0 };
  const env = { DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_AUTH_ALLOWED_GROUP: 'admins', DOCKER_HOST: 'unix:///nonexistent/dockrev-auth.sock' };
  before(async () => {
    github = await GithubDouble.start();
    github.addToken('ghp_example', 'octo');
    trusted = await startApi({ env: { ...env, DOCKREV_GITHUB_API_BASE_URL: github.baseUrl, DOCKREV_AUTH_TRUSTED_PROXIES: '127.0.0.0/8,::1' } });
    untrusted = await startApi({ env: { ...env, DOCKREV_GITHUB_API_BASE_URL: github.baseUrl, DOCKREV_AUTH_TRUSTED_PROXIES: '10.0.0.0/8' } });
    ports.trusted = Number(new URL(await trusted.listen()).port);
    ports.untrusted = Number(new URL(await untrusted.listen()).port);
  });
  after(async () => {
    await Promise.all([trusted?.close(), untrusted?.close()]);
    await github?.close();
  });

  it(`answers all ${operations.length} operations × ${CASES.length} cases as the allowlist says, every answer documented`, async (t) => {
    const problems: string[] = [];
    let requests = 0;
    for (const op of operations) {
      const guarded = op.securitySchemes.includes('forwardAuth');
      await Promise.all(
        CASES.map(async (entry) => {
          const { head, body } = requestFor(op, entry.headers);
          const answer = await rawRequest(entry.untrustedPeer ? ports.untrusted : ports.trusted, head, body);
          requests += 1;
          recordCoverage('dockrev', op.operationId, answer.status);
          const label = `${op.operationId} (${entry.name}) → ${answer.status}`;
          const isEventStream = answer.headers['content-type']?.startsWith('text/event-stream');
          const parsed = answer.headers['content-type']?.startsWith('application/json') ? JSON.parse(answer.body) : isEventStream ? '' : answer.body;
          problems.push(...contract.checkResponse(op.operationId, answer.status, answer.headers['content-type'], isEventStream ? '' : parsed).filter((problem) => !isEventStream || !problem.includes('body')).map((problem) => `${label}: ${problem}`));
          if (answer.status >= 500 && !(op.operationId === 'getReadiness' && answer.status === 503)) problems.push(`${label}: a 5xx`);
          const forwardAuthRefusal = answer.status === 401 && parsed?.error?.code === 'auth_required';
          if (guarded && entry.admitted && forwardAuthRefusal) problems.push(`${label}: refused an allowed identity`);
          if (guarded && !entry.admitted && !forwardAuthRefusal) problems.push(`${label}: admitted an identity it must refuse`);
          if (!guarded && forwardAuthRefusal) problems.push(`${label}: a public operation asked for forward auth`);
        }),
      );
    }
    t.diagnostic(`auth matrix: ${requests} requests (${operations.length} operations × ${CASES.length} cases), ${problems.length} problems`);
    // eslint-disable-next-line no-console
    console.log(`auth matrix: ${requests} requests (${operations.length} operations × ${CASES.length} cases), ${problems.length} problems`);
    assert.deepEqual(problems.slice(0, 30), []);
  });
});
