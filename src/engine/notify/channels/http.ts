// One HTTP request of a channel, bounded by the send's signal; an answer outside 2xx becomes an
// error naming the channel, the status and the start of the body (`webhook http 500: …`).

export interface HttpAnswer {
  status: number;
  text: string;
}

const BODY_EXCERPT = 300;

/** Sends and reads the whole answer; a network failure or the deadline throws with the cause. */
export async function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array<ArrayBuffer>; signal: AbortSignal },
): Promise<HttpAnswer> {
  let response: Response;
  try {
    response = await fetch(url, { method: init.method ?? 'POST', headers: init.headers, body: init.body, signal: init.signal, redirect: 'manual' });
  } catch (error) {
    throw new Error(networkText(error, init.signal));
  }
  const text = await response.text().catch(() => '');
  return { status: response.status, text };
}

export function isSuccess(answer: HttpAnswer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/** Throws `<label> http <status>: <body>` unless the answer is a 2xx. */
export function expectSuccess(label: string, answer: HttpAnswer): void {
  if (isSuccess(answer)) return;
  throw new Error(`${label} http ${answer.status}: ${excerpt(answer.text)}`);
}

/** POSTs JSON and expects a 2xx. */
export async function postJson(label: string, url: string, body: unknown, signal: AbortSignal, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const answer = await request(url, { headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body), signal });
  expectSuccess(label, answer);
  return answer;
}

export function excerpt(text: string): string {
  const single = text.replace(/\s+/g, ' ').trim();
  return single.length > BODY_EXCERPT ? `${single.slice(0, BODY_EXCERPT)}…` : single || '(empty body)';
}

/** fetch hides the cause behind `fetch failed`; the cause (refused, reset, DNS) is what helps. */
function networkText(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'timed out';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `request failed: ${cause.code}`;
  if (cause?.message) return `request failed: ${cause.message}`;
  return `request failed: ${(error as Error).message ?? String(error)}`;
}
