// How an update's steps fail: idempotent steps (pull, tag, inspect) are retried with back-off,
// the others (up) run once; either way a failure names its step for the job summary.
import type { RetryPolicy } from '../../config.js';
import { errorText } from '../../errors.js';

export type { RetryPolicy };

/** Where step retries are logged: the job. */
export interface StepLog {
  log(level: 'info' | 'warn' | 'error', message: string): Promise<void>;
}

export interface RetryReport {
  attempts: number;
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

/** An update step failed for good; `failureStep` names it in the job summary. */
export class UpdateStepError extends Error {
  readonly failureStep: string;
  /** Present for retried (idempotent) steps. */
  readonly retry?: RetryReport;
  readonly lastError: string;

  constructor(message: string, details: { failureStep: string; lastError: string; retry?: RetryReport }, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UpdateStepError';
    this.failureStep = details.failureStep;
    this.lastError = details.lastError;
    if (details.retry) this.retry = details.retry;
  }
}

/** min(max, base·2^(attempt−1)) plus jitter of at most base/3, never above max. */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.min(policy.maxMs, exponential + random() * (policy.baseMs / 3));
}

export interface RetryOptions {
  log?: StepLog;
  sleep?: (ms: number) => Promise<void>;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs an idempotent step up to `maxAttempts` times. Exhaustion throws UpdateStepError
 * "update step '<step>' failed after a/m attempts: <last error>" with the retry parameters.
 */
export async function retryStep<T>(step: string, policy: RetryPolicy, operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const sleep = options.sleep ?? sleepMs;
  const maxAttempts = Math.max(1, policy.maxAttempts);
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      lastError = error;
      if (attempt === maxAttempts) break;
      const delay = Math.round(retryDelayMs(attempt, policy));
      await options.log?.log('warn', `update step '${step}' attempt ${attempt}/${maxAttempts} failed; retrying in ${delay} ms: ${errorText(error)}`);
      await sleep(delay);
    }
  }
  const message = errorText(lastError);
  throw new UpdateStepError(
    `update step '${step}' failed after ${maxAttempts}/${maxAttempts} attempts: ${message}`,
    { failureStep: step, lastError: message, retry: { attempts: maxAttempts, maxAttempts, baseMs: policy.baseMs, maxMs: policy.maxMs } },
    { cause: lastError },
  );
}

/** A step that is not safe to repeat (e.g. `up`): one attempt, failures tagged with the step. */
export async function runStepOnce<T>(step: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof UpdateStepError) throw error;
    const message = errorText(error);
    throw new UpdateStepError(`update step '${step}' failed: ${message}`, { failureStep: step, lastError: message }, { cause: error });
  }
}
