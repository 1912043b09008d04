// Update execution (behaviour.md §E.5): per stack a backup, then the selected services are pinned
// to their target digests with a temporary Compose override file, pulled in one batch, recreated
// with `up -d --no-deps`, health-gated, and their configured tags re-pointed; any failure after a
// container changed rolls the stack's services back to their old images (stack-update.ts).
import { errorText } from '../../errors.js';
import type { RunningJob } from '../jobs/runner.js';
import { openCommandSession, type CommandSession } from './commands.js';
import type { UpdateDeps } from './deps.js';
import { targetRecords, type StackUpdateResult, type UpdateOutcome, type UpdatePlan, type UpdateStatus } from './plan.js';
import { UpdateProgress } from './progress.js';
import { StackUpdate, type StackOutcome } from './stack-update.js';

export type { UpdateDeps };
export type { UpdatePlan };

/**
 * Runs an update plan as the body of an update job. Stacks are processed in order; the first stack
 * that does not succeed ends the job with its status. Unexpected errors end it `failed` with
 * `summary.error`; Docker state is then whatever the failed step left (a rollback already ran
 * when a container had changed).
 */
export async function executeUpdate(job: RunningJob, plan: UpdatePlan, deps: UpdateDeps): Promise<UpdateOutcome & { outcomes: StackOutcome[] }> {
  const progress = new UpdateProgress(job, plan.stacks.length);
  const stacks: StackUpdateResult[] = [];
  const outcomes: StackOutcome[] = [];
  let commands: CommandSession | undefined;
  try {
    await deps.store.jobs.mergeSummary(job.id, { mode: plan.mode, targets: targetRecords(plan) });
    // A dry run runs no command, so it needs no credentials.
    commands = await openCommandSession(deps, job.id, job, { stageCredentials: plan.mode === 'apply' });

    let status: UpdateStatus = 'success';
    for (const [index, entry] of plan.stacks.entries()) {
      const result = await new StackUpdate(job, plan, entry, index, deps, commands, progress).run();
      stacks.push(result.summary);
      outcomes.push(result.outcome);
      if (result.status !== 'success') {
        status = result.status;
        break;
      }
    }
    await progress.done(status === 'success' ? 'update finished' : 'update finished with failures');
    await job.log(status === 'success' ? 'info' : 'warn', `update ${status}`);
    return { status, summary: { mode: plan.mode, stacks, progress: job.lastProgress }, outcomes };
  } catch (error) {
    await job.log('error', `update failed: ${errorText(error)}`);
    await progress.done('update failed');
    return { status: 'failed', summary: { mode: plan.mode, stacks, error: errorText(error), progress: job.lastProgress }, outcomes };
  } finally {
    await commands?.dispose();
  }
}
