// The GitHub delivery inbox: every signed delivery Dockrev received, what it decided and why,
// the jobs it started; filtered and paged, with new deliveries arriving live over SSE.
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'wouter';
import { useEventStream } from '../api/event-stream';
import { queries, type GithubDeliveryFilter, type Schemas } from '../api/queries';
import { Badge, PageHeader, Skeleton, TableHead, TableWrap, Time } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { FilterSelect } from '../components/filters';
import { LiveBadge, Pager, SearchBox, useFilterParam, usePageParam } from '../components/Paging';
import { words } from '../format';

type Decision = NonNullable<GithubDeliveryFilter['decision']>;
const DECISIONS: Decision[] = ['all', 'processed', 'ignored', 'rejected'];
const TONES = { processed: 'ok', ignored: 'neutral', rejected: 'bad' } as const;
const PER_PAGE = 50;

export function GithubDeliveriesPage() {
  const queryClient = useQueryClient();
  const [decisionParam, setDecision] = useFilterParam('decision');
  const [q, setQ] = useFilterParam('q');
  const [page, setPage] = usePageParam();
  const decision = DECISIONS.find((value) => value === decisionParam) ?? 'all';
  const list = useQuery({ ...queries.githubDeliveries({ decision, q: q ?? undefined, page, perPage: PER_PAGE }), placeholderData: keepPreviousData });
  const reload = () => void queryClient.invalidateQueries({ queryKey: ['github', 'deliveries'] });
  const live = useEventStream({
    path: '/api/github-packages/webhook/deliveries/events',
    events: ['github_packages_delivery_event', 'github_packages_delivery_events_error'],
    onEvent: reload,
    onFresh: reload,
  });
  return (
    <>
      <p className="breadcrumb">
        <Link href="/github-packages">GitHub packages</Link> /
      </p>
      <PageHeader title="GitHub deliveries">
        <LiveBadge connected={live} />
      </PageHeader>
      {list.data ? (
        <p className="badges">
          <Badge tone="ok">{list.data.summary.processed} processed</Badge>
          <Badge tone="neutral">{list.data.summary.ignored} ignored</Badge>
          <Badge tone="bad">{list.data.summary.rejected} rejected</Badge>
        </p>
      ) : null}
      <div className="filters" role="group" aria-label="Filters">
        <FilterSelect label="Decision" value={decision} options={DECISIONS.map((value) => ({ value, label: value }))} onChange={(value) => setDecision(value === 'all' ? undefined : value)} />
        <SearchBox label="Search" value={q ?? ''} onChange={setQ} placeholder="delivery id, job id or owner/repo" />
      </div>
      {list.error && !list.data ? <ErrorView error={list.error} onRetry={() => void list.refetch()} /> : null}
      {list.isPending ? <Skeleton lines={6} label="Loading deliveries" /> : null}
      {list.data ? (
        <>
          {list.data.deliveries.length === 0 ? <p className="card">No delivery matches these filters.</p> : <DeliveryTable deliveries={list.data.deliveries} />}
          <Pager page={list.data.page} perPage={list.data.perPage} total={list.data.filteredTotal} onPage={setPage} label="Delivery pages" />
        </>
      ) : null}
    </>
  );
}

function DeliveryTable({ deliveries }: { deliveries: Schemas['GithubPackagesDelivery'][] }) {
  return (
    <TableWrap label="Deliveries">
      <table data-testid="github-deliveries">
        <TableHead columns={['Received', 'Repository', 'Event', 'Decision', 'Jobs', 'Delivery']} />
        <tbody>
          {deliveries.map((delivery) => {
            const jobs = delivery.jobIds?.length ? delivery.jobIds : delivery.jobId ? [delivery.jobId] : [];
            return (
              <tr key={delivery.deliveryId} data-testid="github-delivery" data-decision={delivery.decision}>
                <td>
                  <Time iso={delivery.receivedAt} />
                  {delivery.attemptCount > 1 ? <span className="muted small"> ({delivery.attemptCount} attempts)</span> : null}
                </td>
                <td>{delivery.fullName ? <code>{delivery.fullName}</code> : <span className="muted">—</span>}</td>
                <td>
                  {delivery.event ?? '—'}
                  {delivery.action ? ` · ${delivery.action}` : ''}
                </td>
                <td>
                  <Badge tone={TONES[delivery.decision]}>{delivery.decision}</Badge>
                  {delivery.reason ? <span className="muted small"> {words(delivery.reason)}</span> : null}
                  {delivery.responseStatus ? <span className="muted small"> · HTTP {delivery.responseStatus}</span> : null}
                </td>
                <td>
                  {jobs.length === 0 ? <span className="muted">none</span> : null}
                  {jobs.map((jobId) => (
                    <div key={jobId}>
                      <Link href={`/jobs/${jobId}`}>{jobId}</Link>
                    </div>
                  ))}
                </td>
                <td>
                  <code className="small">{delivery.deliveryId}</code>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableWrap>
  );
}
