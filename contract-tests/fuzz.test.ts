// The fuzz suite (issue 15): requests generated from the spec, well-formed and broken, over every
// operation, under an allowlist and in the anonymous default, each answer checked by the
// independent validator. It fails on any 5xx, any status the spec does not document for the
// operation, any body off its schema, and any request left without an answer.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { GithubDouble } from '../test/fixtures/github-double.js';
import { contract, recordCoverage, startApi, type Api } from './harness.js';
import { random, requestsFor, type FuzzRequest } from './fuzz-requests.js';

const PER_MODE = Number(process.env.DOCKREV_FUZZ_REQUESTS_PER_MODE ?? 6000);
const CONCURRENCY = 24;
const REGISTRY_TOKEN = 'fuzz-registry-token-0123456789';
const operations = [...contract.operations.values()];

interface Answer {
  status: number;
  contentType?: string;
  body: string;
}

function send(agent: Agent, port: number, fuzz: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...fuzz.headers };
    if (fuzz.body) headers['Content-Length'] = fuzz.body.length;
    const req = request({ host: '127.0.0.1', port, method: fuzz.method, path: fuzz.path, headers, agent }, (res) => {
      const contentType = res.headers['content-type'];
      // A stream that opened is all there is to see; its frames are checked in streams.test.ts.
      if (contentType?.startsWith('text/event-stream')) {
        res.destroy();
        resolve({ status: res.statusCode ?? 0, contentType, body: '' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer within 15 s: ${fuzz.method} ${fuzz.path.slice(0, 120)}`)));
    req.on('error', reject);
    req.end(fuzz.body);
  });
}

/** Problems with one answer, as the independent validator sees them. */
function problemsOf(fuzz: FuzzRequest, answer: Answer): string[] {
  const label = `${fuzz.operationId} [${fuzz.kind}] ${fuzz.method} ${fuzz.path.slice(0, 100)} → ${answer.status}`;
  // Readiness is meant to fail here: the suite runs without a Docker engine.
  const notReady = fuzz.operationId === 'getReadiness' && answer.status === 503;
  if (answer.status >= 500 && !notReady) return [`${label}: a 5xx: ${answer.body.slice(0, 300)}`];
  if (fuzz.method === 'HEAD') {
    const documented = contract.operations.get(fuzz.operationId)!.responses[String(answer.status)];
    return [...(documented ? [] : [`${label}: status not documented`]), ...(answer.body === '' ? [] : [`${label}: HEAD answered with a body`])];
  }
  let body: unknown = answer.body;
  if (answer.contentType?.startsWith('application/json')) {
    try {
      body = JSON.parse(answer.body);
    } catch {
      return [`${label}: JSON that does not parse: ${answer.body.slice(0, 200)}`];
    }
  }
  return contract.checkResponse(fuzz.operationId, answer.status, answer.contentType, body).map((problem) => `${label}: ${problem}`);
}

async function run(port: number, requests: FuzzRequest[]) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const statuses = new Map<number, number>();
  const problems: string[] = [];
  let fivexx = 0;
  let index = 0;
  const worker = async () => {
    while (index < requests.length) {
      const fuzz = requests[index++]!;
      try {
        const answer = await send(agent, port, fuzz);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 500 && !(fuzz.operationId === 'getReadiness' && answer.status === 503)) fivexx += 1;
        recordCoverage('dockrev', fuzz.operationId, answer.status);
        problems.push(...problemsOf(fuzz, answer));
      } catch (error) {
        problems.push(`${fuzz.operationId} [${fuzz.kind}] ${fuzz.method} ${fuzz.path.slice(0, 100)}: ${(error as Error).message}`);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return { statuses, problems, fivexx, seconds: (performance.now() - started) / 1000 };
}

function generate(seed: number, identity: (operationId: string) => Record<string, string>): FuzzRequest[] {
  const next = random(seed);
  const requests: FuzzRequest[] = [];
  for (let round = 0; requests.length < PER_MODE; round += 1) {
    for (const op of operations) requests.push(...requestsFor(contract, op, next, identity(op.operationId)));
  }
  // Interleaved, so concurrent requests hit different operations.
  for (let i = requests.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    [requests[i], requests[j]] = [requests[j]!, requests[i]!];
  }
  return requests;
}

function report(mode: string, result: Awaited<ReturnType<typeof run>>, total: number) {
  const byStatus = [...result.statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ');
  const fivexx = result.fivexx;
  // eslint-disable-next-line no-console
  console.log(`fuzz ${mode}: ${total} requests over ${operations.length} operations in ${result.seconds.toFixed(1)} s (${(total / result.seconds).toFixed(0)}/s); ${fivexx} × 5xx (readiness's 503 without Docker aside); ${result.problems.length} problems (undocumented statuses, bodies off-schema, no answer); statuses ${byStatus}`);
}

describe('fuzz: generated requests over every operation', () => {
  let github: GithubDouble;
  let guarded: Api;
  let open: Api;
  before(async () => {
    github = await GithubDouble.start();
    github.addToken('ghp_example', 'octo');
    const env = { DOCKREV_GITHUB_API_BASE_URL: github.baseUrl, DOCKER_HOST: 'unix:///nonexistent/dockrev-fuzz.sock' };
    guarded = await startApi({ env: { ...env, DOCKREV_AUTH_ALLOWED_USER: 'ops', DOCKREV_WEBHOOK_SECRET: 'fuzz-secret' } });
    open = await startApi({ env });
    const settings = await guarded.store.registryWebhooks.getSettings();
    for (const source of Object.values(settings.sources)) Object.assign(source, { enabled: true, token: REGISTRY_TOKEN });
    await guarded.store.registryWebhooks.putSettings(settings);
  });
  after(async () => {
    await Promise.all([guarded?.close(), open?.close()]);
    await github?.close();
  });

  for (const mode of ['allowlist', 'anonymous default'] as const) {
    it(`${mode}: no 5xx, no undocumented status, no body off its schema`, async () => {
      const api = mode === 'allowlist' ? guarded : open;
      const port = Number(new URL(await api.listen()).port);
      const receivers = { 'X-Dockrev-Webhook-Secret': 'fuzz-secret', Authorization: `Bearer ${REGISTRY_TOKEN}` };
      const identity = (operationId: string): Record<string, string> => {
        const op = contract.operations.get(operationId)!;
        if (!op.securitySchemes.includes('forwardAuth')) return mode === 'allowlist' ? receivers : {};
        // Most requests are admitted; some arrive without identity or as someone else.
        return mode === 'allowlist' ? { 'X-Forwarded-User': Math.random() < 0.85 ? 'ops' : 'mallory' } : {};
      };
      const requests = generate(mode === 'allowlist' ? 15 : 1515, identity);
      const result = await run(port, requests);
      report(mode, result, requests.length);
      assert.ok(requests.length >= PER_MODE);
      assert.deepEqual(result.problems.slice(0, 40), [], `${result.problems.length} problems`);
    });
  }
});
