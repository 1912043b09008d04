// The job queue, newest first, filtered by status and type; more pages on demand.
import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import type { Job, JobStatus, JobType } from '../api/queries';
import { JobStatusBadge, PageHeader, ProgressBar, Skeleton, Time } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { FilterSelect, useSearchParam } from '../components/filters';
import { duration, words } from '../format';
import { outcomeOf } from '../jobs/JobSummary';

const STATUSES: JobStatus[] = ['queued', 'running', 'success', 'failed', 'rolled_back'];
const TYPES: JobType[] = ['check', 'update', 'discovery', 'runtime_scan', 'github_packages_webhook', 'github_packages_webhook_sync_all', 'github_packages_webhook_sync_repo', 'quay_notifications'];
const PAGE = 50;
const anyOf = (values: string[]) => [{ value: '', label: 'any' }, ...values.map((value) => ({ value, label: words(value) }))];
const RUNNING_REFRESH_MS = 3000;

export function JobsPage() {
  const [statusParam, setStatus] = useSearchParam('status');
  const [typeParam, setType] = useSearchParam('type');
  const status = STATUSES.find((value) => value === statusParam);
  const type = TYPES.find((value) => value === typeParam);
  const jobs = useInfiniteQuery({
    queryKey: ['jobs', 'list', { status, type }],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => call(api.GET('/api/jobs', { params: { query: { limit: PAGE, cursor: pageParam, status, type } }, signal })),
    getNextPageParam: (page) => page.nextCursor,
    refetchInterval: (query) => (query.state.data?.pages.some((page) => page.jobs.some((job) => job.status === 'running' || job.status === 'queued')) ? RUNNING_REFRESH_MS : false),
  });
  const list = jobs.data?.pages.flatMap((page) => page.jobs) ?? [];
  return (
    <>
      <PageHeader title="Jobs" />
      <div className="filters" role="group" aria-label="Filters">
        <FilterSelect label="Status" value={status ?? ''} options={anyOf(STATUSES)} onChange={setStatus} testId="filter-status" />
        <FilterSelect label="Type" value={type ?? ''} options={anyOf(TYPES)} onChange={setType} testId="filter-type" />
      </div>
      {jobs.error && !jobs.data ? <ErrorView error={jobs.error} onRetry={() => void jobs.refetch()} /> : null}
      {jobs.isPending ? <Skeleton lines={8} label="Loading jobs" /> : null}
      {jobs.data && list.length === 0 ? <p className="card">No job matches these filters.</p> : null}
      {list.length > 0 ? (
        <ul className="job-list" data-testid="job-list">
          {list.map((job) => (
            <JobRow key={job.id} job={job} />
          ))}
        </ul>
      ) : null}
      {jobs.hasNextPage ? (
        <button type="button" onClick={() => void jobs.fetchNextPage()} disabled={jobs.isFetchingNextPage}>
          {jobs.isFetchingNextPage ? 'Loading…' : 'Load older jobs'}
        </button>
      ) : null}
    </>
  );
}

function JobRow({ job }: { job: Job }) {
  const running = job.status === 'running' || job.status === 'queued';
  const percent = job.progress && job.progress.total > 0 ? (job.progress.plannedPercent ?? job.progress.percent) : null;
  return (
    <li className="job-row" data-testid="job-row" data-job-type={job.type} data-job-status={job.status}>
      <div className="job-main">
        <Link href={`/jobs/${job.id}`} className="job-type">
          {words(job.type)} · {job.scope}
        </Link>
        <JobStatusBadge status={job.status} />
      </div>
      <span className="job-outcome">{outcomeOf(job)}</span>
      <span className="stack-fact">
        <Time iso={job.createdAt} /> · {duration(job.startedAt, job.finishedAt)} · by {job.createdBy} ({job.reason})
      </span>
      {running ? <ProgressBar percent={percent} label={`Progress of job ${job.id}`} /> : null}
    </li>
  );
}
