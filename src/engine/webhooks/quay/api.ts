// The part of Quay's REST API that manages repository notifications (Quay API guide,
// "repositorynotification": list, create, delete and test; get and reset-failures are not
// needed, a failing notification is re-created), with an OAuth
// token that has `repo:admin` on the repositories. Every call has a timeout; error texts carry
// Quay's status and message, never the token.
import { errorText } from '../../../errors.js';
import { redact } from '../sources.js';

export interface QuayNotification {
  uuid: string;
  title?: string | null;
  event: string;
  method: string;
  config: Record<string, unknown>;
  number_of_failures: number;
}

export class QuayApiError extends Error {
  constructor(
    message: string,
    /** Quay's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'QuayApiError';
  }
}

const TIMEOUT_MS = 8_000;

export class QuayApi {
  constructor(
    /** `https://quay.io`; the API lives under `/api/v1`. */
    private readonly baseUrl: string,
    private readonly oauthToken: string,
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  async listNotifications(repository: string): Promise<QuayNotification[]> {
    const body = (await this.call('GET', this.path(repository, ''), 'list notifications')) as { notifications?: unknown };
    if (!body || !Array.isArray(body.notifications)) throw new QuayApiError(`list notifications of ${repository}: not a notification list`);
    return body.notifications.filter(isNotification);
  }

  /** A `repo_push` notification that calls `url` with the pushed tags. */
  async createWebhook(repository: string, url: string, title: string): Promise<QuayNotification> {
    const created = await this.call('POST', this.path(repository, ''), 'create notification', {
      event: 'repo_push',
      method: 'webhook',
      config: { url },
      eventConfig: {},
      title,
    });
    if (!isNotification(created)) throw new QuayApiError(`create notification of ${repository}: Quay answered without a notification`);
    return created;
  }

  async deleteNotification(repository: string, uuid: string): Promise<void> {
    await this.call('DELETE', this.path(repository, encodeURIComponent(uuid)), 'delete notification');
  }

  /** Quay queues a test delivery (sample `repo_push` data) to the notification's URL. */
  async testNotification(repository: string, uuid: string): Promise<void> {
    await this.call('POST', this.path(repository, `${encodeURIComponent(uuid)}/test`), 'test notification');
  }

  /** `namespace/name` stays a path of two segments, each encoded. */
  private path(repository: string, rest: string): string {
    return `/api/v1/repository/${repository.split('/').map(encodeURIComponent).join('/')}/notification/${rest}`;
  }

  private async call(method: string, path: string, what: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.oauthToken}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new QuayApiError(redact(`${what}: Quay API unreachable (${errorText(error)})`, [this.oauthToken]));
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      throw new QuayApiError(redact(`${what}: Quay API answered ${response.status}${quayMessage(text)}`, [this.oauthToken]), response.status);
    }
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
}

function isNotification(value: unknown): value is QuayNotification {
  const candidate = value as Partial<QuayNotification> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.uuid === 'string' && typeof candidate.event === 'string' && typeof candidate.method === 'string';
}

/** Quay's ApiError carries `error_message` or `detail`; a short one is worth showing. */
function quayMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error_message?: unknown; detail?: unknown; message?: unknown };
    const message = [parsed.error_message, parsed.detail, parsed.message].find((entry) => typeof entry === 'string');
    return typeof message === 'string' ? `: ${message.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
