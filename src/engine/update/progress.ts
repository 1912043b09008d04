// Progress arithmetic of an update job: each service moves through milestones (a fraction of its
// own work); a stack's share is the mean of its services, spread over 15–95 % of the job.
import type { RunningJob } from '../jobs/runner.js';

/** Fractions of one service's update (behaviour.md §E.5). */
export const MILESTONE = {
  start: 0.02,
  pullStart: 0.08,
  pullEnd: 0.5,
  pullDone: 0.52,
  upStart: 0.6,
  upDone: 0.82,
  healthStart: 0.86,
  healthDone: 0.95,
  done: 1,
} as const;
const STACK_BASE_PERCENT = 15;
const STACK_SPAN_PERCENT = 80;
const PROGRESS_MIN_INTERVAL_MS = 600;

/** Turns per-service milestones into job progress: percent, message and throttled pull updates. */
export class UpdateProgress {
  private readonly fractions = new Map<string, number>();
  private stackIndex = 0;
  private lastPercent = -1;
  private lastEmitAt = 0;

  constructor(
    private readonly job: RunningJob,
    private readonly stackCount: number,
  ) {}

  async stackPhase(stackIndex: number, phase: 'backup' | 'apply', message: string, services: readonly string[]): Promise<void> {
    this.stackIndex = stackIndex;
    this.fractions.clear();
    for (const service of services) this.fractions.set(service, 0);
    await this.emit(phase, message);
  }

  /** Moves the services to a milestone and reports `<svc> · <message>` (also logged). */
  async milestone(services: readonly string[], fraction: number, message: string): Promise<void> {
    for (const service of services) this.fractions.set(service, fraction);
    const target = services.join(', ');
    await this.emit('apply', `${target} · ${message}`, { currentTarget: target });
    await this.job.log('info', `${target} · ${message}`);
  }

  /** Pull progress: reported when the percent grows or every 600 ms, never logged. */
  async pulling(services: readonly string[], fraction: number, download: Record<string, unknown>): Promise<void> {
    for (const service of services) this.fractions.set(service, fraction);
    const percent = this.current();
    if (percent <= this.lastPercent && Date.now() - this.lastEmitAt < PROGRESS_MIN_INTERVAL_MS) return;
    const target = services.join(', ');
    await this.emit('apply', `${target} · pulling image for ${target}`, { currentTarget: target, download });
  }

  async done(message: string): Promise<void> {
    await this.job.progress({ phase: 'done', message, current: 100, total: 100 });
  }

  private current(): number {
    const values = [...this.fractions.values()];
    const stackFraction = values.length > 0 ? values.reduce((sum, value) => sum + value, 0) / values.length : 0;
    return Math.floor(STACK_BASE_PERCENT + (STACK_SPAN_PERCENT * (this.stackIndex + stackFraction)) / Math.max(1, this.stackCount));
  }

  private async emit(phase: string, message: string, extra: { currentTarget?: string; download?: Record<string, unknown> } = {}) {
    const current = this.current();
    this.lastPercent = current;
    this.lastEmitAt = Date.now();
    await this.job.progress({ phase, message, current, total: 100, ...extra });
  }
}

