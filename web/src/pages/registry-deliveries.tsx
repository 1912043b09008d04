// The registry webhook delivery log: every notice a receiver took after authentication, newest
// first, filtered by source, outcome and repository, older pages on demand. Each delivery opens
// to what it named, which events were ignored and why, the services it matched, the checks it
// started and whether they confirmed the digests the registry announced.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { queries, type RegistryDeliveryFilter, type Schemas } from '../api/queries';
import { Badge, Digest, PageHeader, Skeleton, Time } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { FilterSelect, useSearchParam } from '../components/filters';
import { SearchBox } from '../components/Paging';
import { words } from '../format';
import { ServiceName, StackName } from '../jobs/JobSummary';
import { SOURCES } from '../registry-webhooks/form';

type Delivery = Schemas['RegistryDelivery'];
type Outcome = Schemas['RegistryDeliveryOutcome'];
const OUTCOMES: Outcome[] = ['processed', 'unmatched', 'ignored', 'duplicate', 'rejected'];
const TONES = { processed: 'ok', unmatched: 'neutral', ignored: 'neutral', duplicate: 'neutral', rejected: 'bad' } as const;
const VERIFICATION_TONES = { confirmed: 'ok', denied: 'bad', unverified: 'warn' } as const;
const PAGE = 50;
const REFRESH_MS = 5000;

export function RegistryDeliveriesPage() {
  const [sourceParam, setSource] = useSearchParam('source');
  const [outcomeParam, setOutcome] = useSearchParam('outcome');
  const [repository, setRepository] = useSearchParam('repository');
  const filter: RegistryDeliveryFilter = {
    source: SOURCES.find(({ key }) => key === sourceParam)?.key,
    outcome: OUTCOMES.find((value) => value === outcomeParam),
    repository: repository ?? undefined,
  };
  const deliveries = useInfiniteQuery({
    queryKey: ['registry-webhooks', 'deliveries', filter],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => call(api.GET('/api/registry-webhooks/deliveries', { params: { query: { ...filter, limit: PAGE, cursor: pageParam } }, signal })),
    getNextPageParam: (page) => page.nextCursor,
    // New notices arrive on their own, and checks settle the verification of recent ones.
    refetchInterval: REFRESH_MS,
  });
  const list = deliveries.data?.pages.flatMap((page) => page.deliveries) ?? [];
  return (
    <>
      <p className="breadcrumb">
        <Link href="/registry-webhooks">Registry webhooks</Link> /
      </p>
      <PageHeader title="Registry deliveries" />
      <div className="filters" role="group" aria-label="Filters">
        <FilterSelect label="Source" value={filter.source ?? ''} options={[{ value: '', label: 'any' }, ...SOURCES.map(({ key, label }) => ({ value: key, label }))]} onChange={setSource} />
        <FilterSelect label="Outcome" value={filter.outcome ?? ''} options={[{ value: '', label: 'any' }, ...OUTCOMES.map((value) => ({ value, label: value }))]} onChange={setOutcome} />
        <SearchBox label="Repository" value={repository ?? ''} onChange={setRepository} placeholder="registry.example.com/acme/web" testId="registry-delivery-repository" />
      </div>
      {deliveries.error && !deliveries.data ? <ErrorView error={deliveries.error} onRetry={() => void deliveries.refetch()} /> : null}
      {deliveries.isPending ? <Skeleton lines={6} label="Loading deliveries" /> : null}
      {deliveries.data && list.length === 0 ? <p className="card">No delivery matches these filters.</p> : null}
      {list.length > 0 ? (
        <ul className="job-list" data-testid="registry-deliveries">
          {list.map((delivery) => (
            <DeliveryRow key={delivery.id} delivery={delivery} />
          ))}
        </ul>
      ) : null}
      {deliveries.hasNextPage ? (
        <button type="button" onClick={() => void deliveries.fetchNextPage()} disabled={deliveries.isFetchingNextPage}>
          {deliveries.isFetchingNextPage ? 'Loading…' : 'Load older deliveries'}
        </button>
      ) : null}
    </>
  );
}

const sourceLabel = (key: string) => SOURCES.find((source) => source.key === key)?.label ?? key;

function DeliveryRow({ delivery }: { delivery: Delivery }) {
  // The detail asks for the checks it names: only once someone opens it.
  const [open, setOpen] = useState(false);
  return (
    <li className="card" data-testid="registry-delivery" data-source={delivery.source} data-outcome={delivery.outcome}>
      <details onToggle={(event) => setOpen((event.target as HTMLDetailsElement).open)}>
        <summary>
          <Time iso={delivery.receivedAt} /> · {sourceLabel(delivery.source)} · <Badge tone={TONES[delivery.outcome]}>{delivery.outcome}</Badge>
          {delivery.verification ? (
            <>
              {' '}
              <Badge tone={VERIFICATION_TONES[delivery.verification]}>{delivery.verification}</Badge>
            </>
          ) : null}{' '}
          {delivery.repositories.length > 0 ? <code>{delivery.repositories.join(', ')}</code> : null}
          {delivery.tags.length > 0 ? <span className="muted"> : {delivery.tags.join(', ')}</span> : null}
          <span className="muted small">
            {' '}
            · {delivery.matchedServiceIds.length} matched · {delivery.jobIds.length} checks
          </span>
        </summary>
        {open ? <DeliveryDetail delivery={delivery} /> : null}
      </details>
    </li>
  );
}

function DeliveryDetail({ delivery }: { delivery: Delivery }) {
  return (
    <dl className="facts" data-testid="registry-delivery-detail">
      <dt>Delivery</dt>
      <dd>
        <code>{delivery.id}</code> · HTTP {delivery.responseStatus} · {delivery.events} event{delivery.events === 1 ? '' : 's'}
        {delivery.registry ? (
          <>
            {' '}
            · registry <code>{delivery.registry}</code>
          </>
        ) : null}
        {delivery.duplicateOf ? (
          <>
            {' '}
            · duplicate of <code>{delivery.duplicateOf}</code>
          </>
        ) : null}
      </dd>
      {delivery.reason || delivery.message ? (
        <>
          <dt>Why</dt>
          <dd>
            {delivery.reason ? words(delivery.reason) : null}
            {delivery.message ? `: ${delivery.message}` : null}
          </dd>
        </>
      ) : null}
      {delivery.digests?.length ? (
        <>
          <dt>Announced digests</dt>
          <dd>
            {delivery.digests.map((digest) => (
              <span key={digest}>
                <Digest digest={digest} />{' '}
              </span>
            ))}
          </dd>
        </>
      ) : null}
      <dt>Verification</dt>
      <dd>
        {delivery.verification === 'confirmed'
          ? 'the checks found the announced digests'
          : delivery.verification === 'denied'
            ? 'the registry answered with another digest: nothing was changed on the notice alone'
            : delivery.verification === 'unverified'
              ? 'no digest to compare, or a check failed'
              : delivery.jobIds.length > 0
                ? 'waiting for the checks'
                : 'nothing to verify'}
      </dd>
      <dt>Matched services</dt>
      <dd>
        {delivery.matchedServiceIds.length === 0 ? <span className="muted">none: no service uses what was pushed</span> : `${delivery.matchedServiceIds.length}: ${delivery.matchedServiceIds.join(', ')}`}
      </dd>
      <dt>Checks</dt>
      <dd>
        {delivery.jobIds.length === 0 ? <span className="muted">none</span> : null}
        <ul className="override-list">
          {delivery.jobIds.map((jobId) => (
            <li key={jobId}>
              <CheckOf jobId={jobId} />
            </li>
          ))}
        </ul>
      </dd>
      {delivery.ignored.length > 0 ? (
        <>
          <dt>Ignored events</dt>
          <dd>
            <ul className="field-errors muted" data-testid="registry-delivery-ignored">
              {delivery.ignored.map((event, index) => (
                <li key={event.eventId ?? index}>
                  {words(event.reason)}
                  {event.action ? ` (${event.action})` : ''}
                  {event.repository ? (
                    <>
                      {' '}
                      <code>
                        {event.repository}
                        {event.tag ? `:${event.tag}` : ''}
                      </code>
                    </>
                  ) : null}
                  {event.eventId ? <span className="small"> · event {event.eventId}</span> : null}
                </li>
              ))}
            </ul>
          </dd>
        </>
      ) : null}
      {delivery.eventIds.length > 0 ? (
        <>
          <dt>Event ids</dt>
          <dd className="small">
            <code>{delivery.eventIds.join(', ')}</code>
          </dd>
        </>
      ) : null}
    </dl>
  );
}

/** A check the delivery started or joined: its link, the service it checks, how it ended. */
function CheckOf({ jobId }: { jobId: string }) {
  const job = useQuery({ ...queries.job(jobId), retry: false }).data;
  return (
    <>
      <Link href={`/jobs/${jobId}`}>{jobId}</Link>
      {job?.stackId ? (
        <span className="muted">
          {' '}
          <StackName stackId={job.stackId} /> / {job.serviceId ? <ServiceName stackId={job.stackId} serviceId={job.serviceId} /> : 'all services'} · {words(job.status)}
        </span>
      ) : null}
    </>
  );
}
