// One job: what it is, its progress and live log, and its result.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { queries } from '../api/queries';
import { PageHeader, Time } from '../components/bits';
import { absoluteTime, duration, words } from '../format';
import { JobLive } from '../jobs/JobLive';
import { ServiceName, StackName } from '../jobs/JobSummary';

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function JobPage({ params }: { params: Record<string, string> }) {
  const jobId = params.jobId!;
  // Shares the cache entry JobLive keeps fresh.
  const job = useQuery(queries.job(jobId)).data;
  return (
    <>
      <p className="breadcrumb">
        <Link href="/jobs">Jobs</Link> /
      </p>
      <PageHeader title={job ? `${capitalized(words(job.type))} job` : 'Job'} />
      <dl className="facts card">
        <dt>Id</dt>
        <dd>
          <code>{jobId}</code>
        </dd>
        <dt>Scope</dt>
        <dd>
          {job?.scope ?? '…'}
          {job?.stackId ? (
            <>
              {' '}
              · stack{' '}
              <Link href={`/stacks/${job.stackId}`}>
                <StackName stackId={job.stackId} />
              </Link>
            </>
          ) : null}
          {job?.serviceId ? (
            <>
              {' '}
              · service {job.stackId ? <ServiceName stackId={job.stackId} serviceId={job.serviceId} /> : job.serviceId}
            </>
          ) : null}
        </dd>
        <dt>Started</dt>
        <dd>{job ? <span title={absoluteTime(job.startedAt ?? job.createdAt)}><Time iso={job.startedAt ?? job.createdAt} /> by {job.createdBy} ({job.reason})</span> : '…'}</dd>
        <dt>Duration</dt>
        <dd>{job ? duration(job.startedAt, job.finishedAt) : '…'}</dd>
        {job?.type === 'update' ? (
          <>
            <dt>Backup mode</dt>
            <dd>{job.backupMode}</dd>
          </>
        ) : null}
      </dl>
      <JobLive key={jobId} jobId={jobId} />
    </>
  );
}
