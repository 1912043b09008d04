// Version inference: which version tag each running or offered digest is, as the snapshot worker
// found it. The worker and garbage collection at a glance, the snapshot rows filtered and paged,
// kept current by the event stream (a reload when the stream says it lost events).
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef } from 'react';
import { queries, type InferenceFilter, type Schemas } from '../api/queries';
import { useEventStream } from '../api/event-stream';
import { Badge, Digest, PageHeader, ProgressBar, Skeleton, TableHead, TableWrap, Time } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { FilterSelect } from '../components/filters';
import { LiveBadge, Pager, SearchBox, useFilterParam, usePageParam } from '../components/Paging';
import { words } from '../format';

type Row = Schemas['VersionInferenceRow'];
type Status = NonNullable<InferenceFilter['status']>;

const STATUSES: Status[] = ['all', 'running', 'queued', 'ready', 'stale', 'all_failed'];
const PER_PAGE = 50;
const TONES = { running: 'info', queued: 'neutral', ready: 'ok', stale: 'warn', all_failed: 'bad' } as const;
/** Progress events come many a second while a task scans: the overview is reloaded at most this often. */
const RELOAD_EVERY_MS = 700;

export function InferencePage() {
  const [q, setQ] = useFilterParam('q');
  const [statusParam, setStatus] = useFilterParam('status');
  const [page, setPage] = usePageParam();
  const status = STATUSES.find((value) => value === statusParam) ?? 'all';
  const overview = useQuery({ ...queries.inferenceOverview({ q: q ?? undefined, status, page, perPage: PER_PAGE }), placeholderData: keepPreviousData });
  const live = useLiveReload();

  return (
    <>
      <PageHeader title="Version inference">
        <LiveBadge connected={live} />
      </PageHeader>
      <p className="muted">
        For tags like <code>latest</code> Dockrev finds the version tags that point at the same image (a snapshot per repository, digest and platform), so a
        service shows which version it runs and which one is offered.
      </p>
      {overview.error && !overview.data ? <ErrorView error={overview.error} onRetry={() => void overview.refetch()} /> : null}
      {overview.data ? <WorkerFacts overview={overview.data} /> : overview.isPending ? <Skeleton lines={2} label="Loading the worker" /> : null}
      <div className="filters" role="group" aria-label="Filters">
        <SearchBox label="Image or key" value={q ?? ''} onChange={setQ} placeholder="ghcr.io/acme/web" testId="inference-q" />
        <FilterSelect label="Status" value={status} options={STATUSES.map((value) => ({ value, label: words(value) }))} onChange={(value) => setStatus(value === 'all' ? undefined : value)} testId="inference-status" />
      </div>
      {overview.data ? (
        <>
          {overview.data.rows.length === 0 ? <p className="card">No snapshot matches these filters.</p> : <SnapshotTable rows={overview.data.rows} />}
          <Pager page={overview.data.page} perPage={overview.data.perPage} total={overview.data.total} onPage={setPage} label="Snapshot pages" />
        </>
      ) : null}
    </>
  );
}

/** Reloads the overview when the worker reports something; returns whether the stream is up. */
function useLiveReload(): boolean {
  const queryClient = useQueryClient();
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const reload = () => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = undefined;
      void queryClient.invalidateQueries({ queryKey: ['inference-overview'] });
    }, RELOAD_EVERY_MS);
  };
  return useEventStream({
    path: '/api/version-inference/events',
    events: ['version_inference_event'],
    onEvent: (_name, data) => {
      reload();
      // A finished snapshot changes the versions the stacks show.
      if ((data as { type?: string }).type === 'task_finished') void queryClient.invalidateQueries({ queryKey: ['stack'] });
    },
    onFresh: reload,
  });
}

function WorkerFacts({ overview }: { overview: Schemas['VersionInferenceOverview'] }) {
  const { worker, gc, summary } = overview;
  return (
    <section className="card" aria-labelledby="worker-title" data-testid="inference-worker">
      <h2 id="worker-title">Snapshot worker</h2>
      <p className="badges">
        <Badge tone="info">{summary.running} running</Badge> <Badge tone="neutral">{summary.queued} queued</Badge> <Badge tone="ok">{summary.ready} ready</Badge>{' '}
        <Badge tone="warn">{summary.stale} stale</Badge> <Badge tone="bad">{summary.allFailed} all failed</Badge>{' '}
        <span className="muted small">{summary.snapshotsTotal} snapshots stored</span>
      </p>
      <dl className="facts">
        <dt>Tasks</dt>
        <dd>
          {worker.running} of at most {worker.maxConcurrency} at a time, {worker.queued} waiting (room for {worker.queueCapacity})
        </dd>
        <dt>Dropped</dt>
        <dd>
          {worker.dropped === 0 ? (
            'none: the queue never overflowed'
          ) : (
            <>
              {worker.dropped} background tasks while the queue was full, last <Time iso={worker.lastDroppedAt} />
            </>
          )}
        </dd>
        <dt>Garbage collection</dt>
        <dd>
          snapshots older than {gc.retentionDays} days, every {Math.round(gc.intervalSeconds / 3600)} h; last run{' '}
          {gc.lastRunAt ? (
            <>
              <Time iso={gc.lastRunAt} /> ({gc.lastDeleted ?? 0} deleted in {gc.lastDurationMs ?? 0} ms)
            </>
          ) : (
            'not yet'
          )}
        </dd>
      </dl>
    </section>
  );
}

function SnapshotTable({ rows }: { rows: Row[] }) {
  return (
    <TableWrap label="Snapshots">
      <table data-testid="inference-rows">
        <TableHead columns={['Image', 'Digest', 'Platform', 'Status', 'Services', 'Snapshot taken']} />
        <tbody>
          {rows.map((row) => (
            <tr key={row.key} data-testid="inference-row" data-image={row.imageRepo} data-status={row.status}>
              <td>
                <code>{row.imageRepo}</code>
              </td>
              <td>
                <Digest digest={row.digest} />
              </td>
              <td>{row.hostPlatform}</td>
              <td>
                <Badge tone={TONES[row.status]}>{words(row.status)}</Badge>
                {row.reason ? <span className="muted small"> {words(row.reason)}</span> : null}
                {row.progress ? (
                  <>
                    <ProgressBar percent={row.progress.percent} label={`Progress of ${row.imageRepo}`} />
                    <span className="muted small">{row.progress.message}</span>
                  </>
                ) : null}
              </td>
              <td>{row.serviceCount}</td>
              <td>
                <Time iso={row.checkedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
