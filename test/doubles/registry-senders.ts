// Senders of the webhooks that Harbor and Docker Hub deliver, as their documentation describes
// them: Harbor's project webhook in its Default and CloudEvents formats (goharbor's notifier
// formats; the policy's "Auth Header" sent as `Authorization`), and Docker Hub's repository
// webhook (a JSON POST to the configured URL, no custom headers).
import { randomUUID } from 'node:crypto';

export interface SentWebhook {
  status: number;
  body: any;
  /** The exact bytes sent (replays send them again). */
  payload: string;
}

async function post(url: string, payload: string, headers: Record<string, string>): Promise<SentWebhook> {
  const response = await fetch(url, { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body, payload };
}

export interface HarborPush {
  /** `harbor.example.com`, the host in `resource_url`. */
  host: string;
  /** `project/repository`. */
  repository: string;
  tag: string;
  digest: string;
  format?: 'Default' | 'CloudEvents';
  /** PUSH_ARTIFACT by default; PULL_ARTIFACT, DELETE_ARTIFACT, … */
  type?: string;
}

/** The payload Harbor's notifier formats for an artifact event. */
export function harborPayload(push: HarborPush, occurAt = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const [namespace, ...rest] = push.repository.split('/');
  const eventData = {
    resources: [{ digest: push.digest, tag: push.tag, resource_url: `${push.host}/${push.repository}:${push.tag}` }],
    repository: { date_created: occurAt - 3600, name: rest.join('/'), namespace, repo_full_name: push.repository, repo_type: 'private' },
  };
  const type = push.type ?? 'PUSH_ARTIFACT';
  if (push.format === 'CloudEvents') {
    const cloudType = { PUSH_ARTIFACT: 'harbor.artifact.pushed', PULL_ARTIFACT: 'harbor.artifact.pulled', DELETE_ARTIFACT: 'harbor.artifact.deleted' }[type] ?? type;
    return {
      specversion: '1.0',
      requestid: randomUUID(),
      id: randomUUID(),
      source: '/projects/1/webhook/policies/1',
      type: cloudType,
      datacontenttype: 'application/json',
      time: new Date(occurAt * 1000).toISOString(),
      data: eventData,
      operator: 'ci-bot',
    };
  }
  return { type, occur_at: occurAt, operator: 'ci-bot', event_data: eventData };
}

export function sendHarborWebhook(url: string, authHeader: string | undefined, payload: Record<string, unknown> | string): Promise<SentWebhook> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const cloud = typeof payload === 'object' && 'specversion' in payload;
  return post(url, body, {
    'content-type': cloud ? 'application/cloudevents+json' : 'application/json',
    ...(authHeader ? { authorization: authHeader } : {}),
  });
}

export interface DockerHubPush {
  /** `namespace/name`; official images are `library/name`. */
  repoName: string;
  tag: string;
  pusher?: string;
}

/** Docker Hub's webhook payload (docs.docker.com, "Webhooks": example webhook payload). */
export function dockerHubPayload(push: DockerHubPush, pushedAt = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const [namespace, name] = push.repoName.split('/');
  return {
    callback_url: `https://registry.hub.docker.com/u/${push.repoName}/hook/${randomUUID().replace(/-/g, '')}/`,
    push_data: { pushed_at: pushedAt, pusher: push.pusher ?? 'ci-bot', tag: push.tag },
    repository: {
      comment_count: 0,
      date_created: pushedAt - 86_400,
      description: '',
      dockerfile: '',
      full_description: '',
      is_official: namespace === 'library',
      is_private: false,
      is_trusted: false,
      name,
      namespace,
      owner: namespace,
      repo_name: push.repoName,
      repo_url: `https://registry.hub.docker.com/u/${push.repoName}/`,
      star_count: 0,
      status: 'Active',
    },
  };
}

/** Docker Hub calls the URL as configured (the token is in its query) with a JSON body and nothing else. */
export function sendDockerHubWebhook(url: string, payload: Record<string, unknown> | string): Promise<SentWebhook> {
  return post(url, typeof payload === 'string' ? payload : JSON.stringify(payload), { 'content-type': 'application/json' });
}

/** What a registry's notification endpoint sends: the distribution envelope with the Bearer token. */
export function sendDistributionEnvelope(url: string, token: string | undefined, envelope: unknown): Promise<SentWebhook> {
  return post(url, typeof envelope === 'string' ? envelope : JSON.stringify(envelope), {
    'content-type': 'application/vnd.docker.distribution.events.v1+json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });
}

/** One distribution event as docker-registry writes it (notifications.Event). */
export function distributionEvent(fields: { host: string; repository: string; tag?: string; digest: string; action?: string; mediaType?: string; id?: string }): Record<string, unknown> {
  return {
    id: fields.id ?? randomUUID(),
    timestamp: new Date().toISOString(),
    action: fields.action ?? 'push',
    target: {
      mediaType: fields.mediaType ?? 'application/vnd.docker.distribution.manifest.v2+json',
      size: 527,
      digest: fields.digest,
      length: 527,
      repository: fields.repository,
      url: `http://${fields.host}/v2/${fields.repository}/manifests/${fields.digest}`,
      ...(fields.tag ? { tag: fields.tag } : {}),
    },
    request: { id: randomUUID(), addr: '127.0.0.1:40000', host: fields.host, method: 'PUT', useragent: 'docker/20.10.24' },
    actor: {},
    source: { addr: 'registry:5000', instanceID: randomUUID() },
  };
}
