// A job followed live: status, progress bar, the log as it streams, and the result when it ends.
// Used by the job page and by the update dialog.
import { useEffect, useRef } from 'react';
import { isTerminal } from '../api/queries';
import { JobStatusBadge, ProgressBar, Skeleton } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { absoluteTime } from '../format';
import { JobSummary } from './JobSummary';
import { useLiveJob } from './useLiveJob';

export function JobLive({ jobId }: { jobId: string }) {
  const { job, error, lines, progress, reconnecting } = useLiveJob(jobId);
  const logEnd = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const list = logEnd.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [lines.length]);

  if (error && !job) return <ErrorView error={error} />;
  if (!job) return <Skeleton lines={6} label="Loading job" />;
  const over = isTerminal(job);
  const percent = over ? 100 : progress && (progress.total > 0 || progress.phase === 'done') ? (progress.plannedPercent ?? progress.percent) : null;
  return (
    <div className="job-live" data-testid="job-live" data-status={job.status}>
      <div className="job-status-line">
        <JobStatusBadge status={job.status} />
        <span aria-live="polite" data-testid="job-progress-message">
          {progress?.message ?? (over ? 'finished' : 'starting')}
        </span>
        {reconnecting ? (
          <span className="badge badge-warn" role="status">
            reconnecting…
          </span>
        ) : null}
      </div>
      <ProgressBar percent={percent} label={`Progress of job ${job.id}`} />
      <h2 className="sr-only">Log</h2>
      <ol className="log" ref={logEnd} tabIndex={0} aria-label="Job log" data-testid="job-log">
        {lines.map((line) => (
          <li key={line.id} data-log-id={line.id} className={`log-${line.level}`}>
            <time dateTime={line.ts} title={absoluteTime(line.ts)}>
              {line.ts.slice(11, 19)}
            </time>{' '}
            {line.level !== 'info' ? <span className="log-level">{line.level}</span> : null} {line.msg}
          </li>
        ))}
      </ol>
      {over ? <JobSummary job={job} /> : null}
    </div>
  );
}
