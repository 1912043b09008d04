// A button that starts a job and follows it: busy while it runs, then the outcome, linked to the
// job page. On 409 (the same job is already running) it follows the running one instead.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { ApiError } from '../api/errors';
import { outcomeOf } from '../jobs/JobSummary';
import { useJobWatch } from '../jobs/useJobWatch';

/** Starts a job; on 409 (one already running) follows the running one instead. */
export function useStartJob(start: () => Promise<string>) {
  const [jobId, setJobId] = useState<string>();
  const mutation = useMutation({
    mutationFn: start,
    onSuccess: setJobId,
    onError: (error) => {
      const existing = error instanceof ApiError && error.status === 409 ? error.details.existingJobId : undefined;
      if (typeof existing === 'string') setJobId(existing);
    },
  });
  return { jobId, mutation };
}

interface JobButtonProps {
  label: string;
  busyLabel: string;
  start: () => Promise<string>;
  testId: string;
  className?: string;
  /** What the job may change, refetched when it is over. */
  refresh?: readonly (readonly string[])[];
}

const CHANGED_BY_CHECKS = [['stacks'], ['stack'], ['discovery-projects']];

export function JobButton({ label, busyLabel, start, testId, className, refresh = CHANGED_BY_CHECKS }: JobButtonProps) {
  const { jobId, mutation } = useStartJob(start);
  const watch = useJobWatch(jobId, refresh);
  const busy = mutation.isPending || watch.running;
  return (
    <span className="job-button">
      <button type="button" className={className} onClick={() => mutation.mutate()} disabled={busy} data-testid={testId}>
        {busy ? busyLabel : label}
      </button>
      <span className="job-button-status small" aria-live="polite">
        {jobId ? (
          <Link href={`/jobs/${jobId}`}>{watch.job && watch.over ? outcomeOf(watch.job) : 'view job'}</Link>
        ) : mutation.error && !(mutation.error instanceof ApiError && mutation.error.status === 409) ? (
          <span className="field-error">{mutation.error.message}</span>
        ) : null}
      </span>
    </span>
  );
}

export function CheckAllButton() {
  return (
    <JobButton
      label="Check all"
      busyLabel="Checking…"
      testId="check-all"
      start={async () => (await call(api.POST('/api/checks', { body: { scope: 'all', reason: 'ui' } }))).checkId}
    />
  );
}

export function DiscoverButton() {
  return (
    <JobButton
      label="Scan for stacks"
      busyLabel="Scanning…"
      testId="discover"
      start={async () => (await call(api.POST('/api/discovery/scan'))).jobId}
    />
  );
}
