// Overview: every stack with its status, updates (and to which version) and last check; check
// all, discover, filter; when the next scheduled check runs.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { queries, type StackListItem } from '../api/queries';
import { Badge, PageHeader, Skeleton, StackStatusBadge, Time, Version } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { ArchivedSelect, useArchivedParam, useSearchParam } from '../components/filters';
import { CheckAllButton, DiscoverButton } from '../components/JobButton';
import { absoluteTime, count, relativeTime } from '../format';
import { offersUpdate } from '../services';

const REFRESH_MS = 15_000;

export function OverviewPage() {
  const [updatesParam, setUpdatesParam] = useSearchParam('updates');
  const onlyUpdates = updatesParam === '1';
  const [archived, setArchived] = useArchivedParam();
  const stacks = useQuery({ ...queries.stacks(archived), refetchInterval: REFRESH_MS });

  const list = stacks.data?.stacks ?? [];
  const shown = onlyUpdates ? list.filter((stack) => stack.updates > 0) : list;
  return (
    <>
      <PageHeader title="Stacks">
        <DiscoverButton />
        <CheckAllButton />
      </PageHeader>
      <Totals stacks={stacks.data?.stacks} />
      <div className="filters" role="group" aria-label="Filters">
        <label className="inline-check">
          <input type="checkbox" checked={onlyUpdates} onChange={(event) => setUpdatesParam(event.target.checked ? '1' : undefined)} />
          Only stacks with updates
        </label>
        <ArchivedSelect label="Archived stacks" value={archived} onChange={setArchived} />
      </div>
      {stacks.error && !stacks.data ? <ErrorView error={stacks.error} onRetry={() => void stacks.refetch()} /> : null}
      {stacks.isPending ? <Skeleton lines={6} label="Loading stacks" /> : null}
      {stacks.data && shown.length === 0 ? <EmptyState filtered={list.length > 0} /> : null}
      {shown.length > 0 ? (
        <ul className="stack-list" data-testid="stack-list">
          {shown.map((stack) => (
            <StackRow key={stack.id} stack={stack} />
          ))}
        </ul>
      ) : null}
    </>
  );
}

function Totals({ stacks }: { stacks: StackListItem[] | undefined }) {
  const settings = useQuery(queries.settings());
  // The server's own next run: it knows its time zone and whether its scheduler runs.
  const schedule = settings.data?.schedules.updateCheck;
  const next = schedule?.enabled ? schedule.nextRunAt : undefined;
  const updates = stacks?.reduce((sum, stack) => sum + stack.updates, 0) ?? 0;
  const lastCheck = stacks?.map((stack) => stack.lastCheckAt).sort().at(-1);

  // Shown all at once when both answers are in: placeholders of another width would move the rest.
  if (!stacks || settings.isPending) return <p className="totals" data-testid="totals" aria-busy="true" />;
  return (
    <p className="totals" data-testid="totals">
      <span>{count(stacks.length, 'stack')}</span>
      <span>{`${count(updates, 'update')} available`}</span>
      <span>
        last check <Time iso={lastCheck} />
      </span>
      <span data-testid="next-check">
        {settings.error ? (
          'next scheduled check unknown'
        ) : next ? (
          <>
            next scheduled check{' '}
            <time dateTime={next} title={absoluteTime(next)}>
              {relativeTime(next)}
            </time>
          </>
        ) : schedule?.enabled ? (
          'scheduled checks on; the next run is not planned on this instance'
        ) : (
          <>
            scheduled checks off (<Link href="/settings">settings</Link>)
          </>
        )}
      </span>
    </p>
  );
}

function StackRow({ stack }: { stack: StackListItem }) {
  return (
    <li className="stack-row" data-testid="stack-row" data-stack-name={stack.name}>
      <div className="stack-main">
        <Link href={`/stacks/${stack.id}`} className="stack-name">
          {stack.name}
        </Link>
        <StackStatusBadge status={stack.status} />
        {stack.archived ? <Badge tone="neutral">archived</Badge> : null}
      </div>
      <span className="stack-fact">
        {count(stack.services, 'service')}
        {stack.archivedServices ? ` (${stack.archivedServices} archived)` : ''}
      </span>
      <span className="stack-fact" data-testid="stack-updates">
        {stack.updates > 0 ? <Badge tone="info">{count(stack.updates, 'update')}</Badge> : <span className="muted">up to date</span>}
      </span>
      <span className="stack-fact">
        checked <Time iso={stack.lastCheckAt} />
      </span>
      {stack.updates > 0 ? <PendingUpdates stack={stack} /> : null}
    </li>
  );
}

/** What each update is, so nobody has to open the stack to see it; space is reserved while it loads. */
function PendingUpdates({ stack }: { stack: StackListItem }) {
  const detail = useQuery(queries.stack(stack.id));
  const services = detail.data?.services.filter(offersUpdate);
  return (
    <ul className="pending-updates" aria-label={`Updates in ${stack.name}`}>
      {services
        ? services.map((service) => (
            <li key={service.id} data-testid="pending-update">
              <span className="service-name">{service.name}</span> <span className="muted">{service.image.tag}</span>{' '}
              <Version tag={service.image.tag} resolvedTag={service.image.resolvedTag} digest={service.image.digest} /> →{' '}
              <Version tag={service.candidate!.tag} resolvedTag={service.candidate!.resolvedTag} digest={service.candidate!.digest} />
            </li>
          ))
        : Array.from({ length: stack.updates }, (_, index) => <li key={index} className="skeleton-line" aria-hidden="true" />)}
    </ul>
  );
}

function EmptyState({ filtered }: { filtered: boolean }) {
  if (filtered) return <p className="card">No stack matches these filters.</p>;
  return (
    <div className="card">
      <h2>No stacks yet</h2>
      <p>
        Dockrev finds the Compose projects running on this host by itself, every few minutes. Start a scan now with “Scan for stacks”,
        or see what it found on the <Link href="/discovery">discovery page</Link>.
      </p>
    </div>
  );
}
