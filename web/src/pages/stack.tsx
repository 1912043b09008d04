// One stack: its Compose files and each service's image, running digest and version, the
// candidate and whether it fits this host, the ignore rule that hides it; and the actions.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { queries, type ServiceDetail, type StackDetail } from '../api/queries';
import { ArchBadge, Badge, Digest, PageHeader, Skeleton, StackStatusBadge, Time } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { JobButton } from '../components/JobButton';
import { ServiceVersionTools, VersionInferenceFacts } from '../inference/ServiceVersion';
import { useJobWatch } from '../jobs/useJobWatch';
import { offersUpdate } from '../services';
import { ServiceSettingsForm } from './service-settings';
import { UpdateDialog } from './update-dialog';

export function StackPage({ params }: { params: Record<string, string> }) {
  const stackId = params.stackId!;
  const stack = useQuery(queries.stack(stackId));
  const [updating, setUpdating] = useState<ServiceDetail[] | undefined>();

  if (stack.error && !stack.data) return <ErrorView error={stack.error} onRetry={() => void stack.refetch()} />;
  if (!stack.data) return <Skeleton lines={8} label="Loading stack" />;
  const updatable = stack.data.services.filter(offersUpdate);
  return (
    <>
      <p className="breadcrumb">
        <Link href="/">Stacks</Link> /
      </p>
      <PageHeader title={stack.data.name}>
        <JobButton
          label="Check stack"
          busyLabel="Checking…"
          testId="check-stack"
          start={async () => (await call(api.POST('/api/checks', { body: { scope: 'stack', stackId, reason: 'ui' } }))).checkId}
        />
        {updatable.length > 1 ? (
          <button type="button" className="primary" onClick={() => setUpdating(updatable)}>
            Update all ({updatable.length})
          </button>
        ) : null}
        <ArchiveButton kind="stack" id={stackId} archived={stack.data.archived} />
      </PageHeader>
      <StackFacts stack={stack.data} />
      <ul className="service-list">
        {stack.data.services.map((service) => (
          <ServiceCard key={service.id} stackId={stackId} service={service} onUpdate={() => setUpdating([service])} />
        ))}
      </ul>
      <UpdateDialog stack={stack.data} services={updating ?? []} open={updating !== undefined} onClose={() => setUpdating(undefined)} />
    </>
  );
}

function StackFacts({ stack }: { stack: StackDetail }) {
  const list = useQuery(queries.stacks('include'));
  const item = list.data?.stacks.find((entry) => entry.id === stack.id);
  return (
    <dl className="facts card">
      <dt>Status</dt>
      <dd>{item ? <StackStatusBadge status={item.status} /> : '…'}</dd>
      <dt>Last check</dt>
      <dd>{item ? <Time iso={item.lastCheckAt} /> : '…'}</dd>
      <dt>Compose files</dt>
      <dd>
        {stack.compose.composeFiles.map((file) => (
          <code key={file} className="path">
            {file}
          </code>
        ))}
      </dd>
      {stack.compose.envFile ? (
        <>
          <dt>Env file</dt>
          <dd>
            <code className="path">{stack.compose.envFile}</code>
          </dd>
        </>
      ) : null}
      {stack.archived ? (
        <>
          <dt>Archived</dt>
          <dd>yes: excluded from “check all” and from updates of all stacks</dd>
        </>
      ) : null}
    </dl>
  );
}

function ServiceCard({ stackId, service, onUpdate }: { stackId: string; service: ServiceDetail; onUpdate: () => void }) {
  const [editing, setEditing] = useState(false);
  const { image, candidate, homepage } = service;
  return (
    <li className="card service-card" data-testid="service-card" data-service-name={service.name}>
      <div className="service-head">
        <h2>{service.name}</h2>
        {service.archived ? <Badge tone="neutral">archived</Badge> : null}
        {offersUpdate(service) ? <Badge tone="info">update available</Badge> : null}
        {homepage?.href ? (
          <a href={homepage.href} target="_blank" rel="noreferrer noopener" className="homepage-link">
            {homepage.name ?? 'Homepage'} ↗
          </a>
        ) : null}
      </div>
      {homepage?.description || homepage?.group ? (
        <p className="muted">{[homepage.group, homepage.description].filter(Boolean).join(' · ')}</p>
      ) : null}
      <dl className="facts">
        <dt>Image</dt>
        <dd>
          <code className="path">
            {image.ref}:{image.tag}
          </code>
        </dd>
        <dt>Running</dt>
        <dd data-testid="running-version">
          {image.resolvedTag ? <strong>{image.resolvedTag}</strong> : null} <Digest digest={image.digest} />
          {image.resolvedTags && image.resolvedTags.length > 1 ? <span className="muted"> (also {image.resolvedTags.slice(1).join(', ')})</span> : null}
        </dd>
        <dt>Candidate</dt>
        <dd data-testid="candidate">
          {candidate ? (
            <>
              {candidate.resolvedTag ? <strong>{candidate.resolvedTag}</strong> : <span className="muted">{candidate.tag}</span>}{' '}
              <Digest digest={candidate.digest} /> <ArchBadge archMatch={candidate.archMatch} arch={candidate.arch} />
            </>
          ) : (
            <span className="muted">none: up to date as of the last check</span>
          )}
        </dd>
        {service.ignore ? (
          <>
            <dt>Ignored</dt>
            <dd data-testid="ignored">
              {service.ignore.reason} (<Link href={`/ignores#${service.ignore.ruleId}`}>rule {service.ignore.ruleId}</Link>)
            </dd>
          </>
        ) : null}
        <VersionInferenceFacts service={service} />
      </dl>
      <div className="actions">
        <JobButton
          label="Check"
          busyLabel="Checking…"
          testId="check-service"
          start={async () => (await call(api.POST('/api/checks', { body: { scope: 'service', stackId, serviceId: service.id, reason: 'ui' } }))).checkId}
        />
        <button type="button" className={candidate ? 'primary' : undefined} disabled={!candidate || service.archived} onClick={onUpdate} data-testid="open-update">
          Update…
        </button>
        {candidate && !service.ignore ? <IgnoreButton service={service} stackId={stackId} /> : null}
        <ArchiveButton kind="service" id={service.id} archived={service.archived} />
        <button type="button" aria-expanded={editing} onClick={() => setEditing(!editing)}>
          Settings
        </button>
        <ServiceVersionTools stackId={stackId} service={service} />
      </div>
      {editing ? <ServiceSettingsForm stackId={stackId} service={service} /> : null}
    </li>
  );
}

/** Ignores updates of this tag with an exact rule, then re-checks so the page shows it at once. */
function IgnoreButton({ service, stackId }: { service: ServiceDetail; stackId: string }) {
  const [checkId, setCheckId] = useState<string>();
  const watch = useJobWatch(checkId, [['stack', stackId], ['stacks'], ['ignores']]);
  const tag = service.candidate!.tag;
  const ignore = useMutation({
    mutationFn: async () => {
      await call(
        api.POST('/api/ignores', {
          body: { enabled: true, scope: { type: 'service', serviceId: service.id }, match: { kind: 'exact', value: tag }, note: `ignored in the UI at ${service.candidate!.digest}` },
        }),
      );
      return (await call(api.POST('/api/checks', { body: { scope: 'service', stackId, serviceId: service.id, reason: 'ui' } }))).checkId;
    },
    onSuccess: setCheckId,
  });
  return (
    <span className="job-button">
      <button type="button" onClick={() => ignore.mutate()} disabled={ignore.isPending || watch.running} data-testid="ignore-update">
        {watch.running ? 'Re-checking…' : `Ignore updates of “${tag}”`}
      </button>
      <span className="job-button-status small" aria-live="polite">
        {ignore.error ? <span className="field-error">{ignore.error.message}</span> : null}
      </span>
    </span>
  );
}

function ArchiveButton({ kind, id, archived }: { kind: 'stack' | 'service'; id: string; archived: boolean }) {
  const queryClient = useQueryClient();
  const toggle = useMutation({
    mutationFn: async () => {
      if (kind === 'stack') {
        const path = { params: { path: { stackId: id } } };
        await call(archived ? api.POST('/api/stacks/{stackId}/restore', path) : api.POST('/api/stacks/{stackId}/archive', path));
      } else {
        const path = { params: { path: { serviceId: id } } };
        await call(archived ? api.POST('/api/services/{serviceId}/restore', path) : api.POST('/api/services/{serviceId}/archive', path));
      }
    },
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ['stack'] });
      void queryClient.invalidateQueries({ queryKey: ['stacks'] });
    },
  });
  return (
    <span className="job-button">
      <button type="button" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
        {archived ? `Restore ${kind}` : `Archive ${kind}`}
      </button>
      <span className="job-button-status small" aria-live="polite">
        {toggle.error ? <span className="field-error">{toggle.error.message}</span> : null}
      </span>
    </span>
  );
}
