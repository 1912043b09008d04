// The notification delivery log: every send and retry, filtered by channel, kind, status or the
// job it is about, newest first, with a link to that job.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { queries, type NotificationDeliveryFilter, type Schemas } from '../api/queries';
import { Badge, PageHeader, Skeleton, TableHead, TableWrap, Time } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { FilterSelect } from '../components/filters';
import { Pager, SearchBox, useFilterParam, usePageParam } from '../components/Paging';
import { words } from '../format';
import { CHANNELS } from '../notify/channels';

type Delivery = Schemas['NotificationDelivery'];
const KINDS: NonNullable<NotificationDeliveryFilter['kind']>[] = ['notification_test', 'job_finished', 'new_version_discovered', 'ghcr_webhook_anomaly'];
const STATUSES: NonNullable<NotificationDeliveryFilter['status']>[] = ['pending', 'sent', 'failed'];
const TONES = { pending: 'neutral', sent: 'ok', failed: 'bad' } as const;
const PER_PAGE = 50;
const REFRESH_MS = 5000;
const anyOf = <T extends string>(values: { value: T; label: string }[]) => [{ value: '' as T | '', label: 'any' }, ...values];
const pick = <T extends string>(values: readonly T[], raw: string | null) => values.find((value) => value === raw);

export function NotificationDeliveriesPage() {
  const [channelParam, setChannel] = useFilterParam('channel');
  const [kindParam, setKind] = useFilterParam('kind');
  const [statusParam, setStatus] = useFilterParam('status');
  const [jobId, setJobId] = useFilterParam('jobId');
  const [page, setPage] = usePageParam();
  const filter: NotificationDeliveryFilter = {
    channel: pick(CHANNELS.map((spec) => spec.key), channelParam),
    kind: pick(KINDS, kindParam),
    status: pick(STATUSES, statusParam),
    jobId: jobId ?? undefined,
    page,
    perPage: PER_PAGE,
  };
  // Pending rows change on their own (retries): look again now and then while any is shown.
  const deliveries = useQuery({
    ...queries.notificationDeliveries(filter),
    placeholderData: keepPreviousData,
    refetchInterval: (query) => (query.state.data?.deliveries.some((delivery) => delivery.status === 'pending') ? REFRESH_MS : false),
  });
  return (
    <>
      <p className="breadcrumb">
        <Link href="/notifications">Notifications</Link> /
      </p>
      <PageHeader title="Delivery log" />
      <div className="filters" role="group" aria-label="Filters">
        <FilterSelect label="Channel" value={filter.channel ?? ''} options={anyOf(CHANNELS.map((spec) => ({ value: spec.key, label: spec.label })))} onChange={setChannel} testId="delivery-channel" />
        <FilterSelect label="Kind" value={filter.kind ?? ''} options={anyOf(KINDS.map((value) => ({ value, label: words(value) })))} onChange={setKind} />
        <FilterSelect label="Status" value={filter.status ?? ''} options={anyOf(STATUSES.map((value) => ({ value, label: value })))} onChange={setStatus} />
        <SearchBox label="Job id" value={jobId ?? ''} onChange={setJobId} placeholder="job_…" />
      </div>
      {deliveries.error && !deliveries.data ? <ErrorView error={deliveries.error} onRetry={() => void deliveries.refetch()} /> : null}
      {deliveries.isPending ? <Skeleton lines={6} label="Loading deliveries" /> : null}
      {deliveries.data ? (
        <>
          {deliveries.data.deliveries.length === 0 ? <p className="card">No delivery matches these filters.</p> : <DeliveryTable deliveries={deliveries.data.deliveries} />}
          <Pager page={deliveries.data.page} perPage={deliveries.data.perPage} total={deliveries.data.total} onPage={setPage} label="Delivery pages" />
        </>
      ) : null}
    </>
  );
}

const channelLabel = (key: string) => CHANNELS.find((spec) => spec.key === key)?.label ?? key;

function DeliveryTable({ deliveries }: { deliveries: Delivery[] }) {
  return (
    <TableWrap label="Deliveries">
      <table data-testid="notification-deliveries">
        <TableHead columns={['When', 'Channel', 'Kind', 'Status', 'Title', 'Job']} />
        <tbody>
          {deliveries.map((delivery) => (
            <tr key={delivery.id} data-testid="notification-delivery" data-channel={delivery.channel} data-status={delivery.status}>
              <td>
                <Time iso={delivery.sentAt ?? delivery.createdAt} />
              </td>
              <td>{channelLabel(delivery.channel)}</td>
              <td>{words(delivery.kind)}</td>
              <td>
                <Badge tone={TONES[delivery.status]}>{delivery.status}</Badge>{' '}
                <span className="muted small">
                  attempt {delivery.attempts} of {delivery.maxAttempts}
                  {delivery.status === 'pending' && delivery.nextAttemptAt ? (
                    <>
                      , next <Time iso={delivery.nextAttemptAt} />
                    </>
                  ) : null}
                </span>
                {delivery.lastError ? <div className="field-error wrap">{delivery.lastError}</div> : null}
              </td>
              <td className="wrap">{delivery.title}</td>
              <td>{delivery.jobId ? <Link href={`/jobs/${delivery.jobId}`}>{delivery.jobId}</Link> : <span className="muted">{delivery.kind === 'notification_test' ? 'test send' : '—'}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
