// The state of Dockrev's hooks across the selected repositories, the jobs working on them, and
// the two ways to reconcile: sync all (a job), or a dry run that says what a sync would do.
import { useMutation, useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { queries } from '../api/queries';
import { Badge, Time } from '../components/bits';
import { JobButton } from '../components/JobButton';

const GITHUB_QUERIES = [['github']];
const BUSY_REFRESH_MS = 1500;

export function WebhookOverview() {
  const overview = useQuery({ ...queries.githubWebhookOverview(), refetchInterval: (query) => (query.state.data && query.state.data.jobsQueued + query.state.data.jobsRunning > 0 ? BUSY_REFRESH_MS : false) });
  const dryRun = useMutation({ mutationFn: () => call(api.POST('/api/github-packages/sync', { body: { dryRun: true } })) });
  const data = overview.data;
  return (
    <section className="card" aria-labelledby="hooks-title" data-testid="github-overview">
      <h2 id="hooks-title">Webhooks</h2>
      {overview.error ? <p className="field-error">{overview.error.message}</p> : null}
      <p className="badges" aria-busy={!data}>
        {data ? (
          <>
            <span>{data.summary.tracked} selected:</span>
            <Badge tone="ok">{data.summary.ok} ok</Badge>
            <Badge tone="warn">{data.summary.missing} missing</Badge>
            <Badge tone="bad">{data.summary.conflict} conflict</Badge>
            <Badge tone="bad">{data.summary.error} error</Badge>
            <Badge tone="neutral">{data.summary.queued + data.summary.running} in progress</Badge>
            <Badge tone="neutral">{data.summary.unknown} unknown</Badge>
          </>
        ) : null}
      </p>
      {data ? (
        <p className="muted small">
          Jobs: {data.jobsQueued} queued, {data.jobsRunning} running
          {data.runningJobId ? (
            <>
              {' '}
              (<Link href={`/jobs/${data.runningJobId}`}>running job</Link>)
            </>
          ) : null}
          . Last audit <Time iso={data.lastAuditAt} />.
        </p>
      ) : null}
      <div className="actions">
        <JobButton
          label="Sync all"
          busyLabel="Syncing…"
          testId="github-sync-all"
          refresh={GITHUB_QUERIES}
          start={async () => (await call(api.POST('/api/github-packages/webhook/sync-all'))).jobId}
        />
        <button type="button" onClick={() => dryRun.mutate()} disabled={dryRun.isPending} data-testid="github-sync-dry-run">
          Sync (dry run)
        </button>
      </div>
      <div aria-live="polite">
        {dryRun.error ? <p className="field-error">{dryRun.error.message}</p> : null}
        {dryRun.data ? (
          <ul className="test-results" data-testid="github-dry-run">
            {dryRun.data.results.length === 0 ? <li className="muted">No selected repository.</li> : null}
            {dryRun.data.results.map((result) => (
              <li key={result.repo}>
                <code>{result.repo}</code>: {result.action === 'error' ? <span className="field-error">{result.message}</span> : result.message}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </section>
  );
}
