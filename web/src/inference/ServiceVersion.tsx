// A service's version inference on the stack page: its state, "refresh version" (a forced
// snapshot of the running digest), and the tags pointing at that digest — pending while the
// snapshot is taken, asked again after the delay the server suggests.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, call } from '../api/client';
import type { Schemas, ServiceDetail } from '../api/queries';
import { Badge, Time } from '../components/bits';
import { words } from '../format';

type Snapshot = Schemas['DigestTagsSnapshot'] | Schemas['DigestTagsSnapshotPending'];
const isPending = (snapshot: Snapshot | undefined): snapshot is Schemas['DigestTagsSnapshotPending'] => snapshot !== undefined && 'status' in snapshot;
const MIN_RETRY_MS = 250;

export function VersionInferenceFacts({ service }: { service: ServiceDetail }) {
  const state = service.versionInference;
  if (!state) return null;
  return (
    <>
      <dt>Version</dt>
      <dd data-testid="version-inference">
        <Badge tone={state.status === 'ready' ? 'ok' : 'neutral'}>inference {state.status}</Badge>
        {state.reason ? <span className="muted"> {words(state.reason)}</span> : null}
        {state.checkedAt ? (
          <span className="muted">
            {' '}
            · snapshot <Time iso={state.checkedAt} />
          </span>
        ) : null}
      </dd>
    </>
  );
}

export function ServiceVersionTools({ stackId, service }: { stackId: string; service: ServiceDetail }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const digest = service.image.digest;
  const refresh = useMutation({
    mutationFn: () => call(api.POST('/api/services/{serviceId}/version-inference/refresh', { params: { path: { serviceId: service.id } }, body: { digest: digest! } })),
    onSuccess: () => {
      setOpen(true);
      return queryClient.invalidateQueries({ queryKey: ['digest-tags', service.id] });
    },
  });
  return (
    <>
      <span className="job-button">
        <button type="button" onClick={() => refresh.mutate()} disabled={!digest || refresh.isPending} data-testid="refresh-version">
          Refresh version
        </button>
        <span className="job-button-status small" aria-live="polite">
          {refresh.error ? <span className="field-error">{refresh.error.message}</span> : refresh.isSuccess ? 'snapshot queued' : null}
        </span>
      </span>
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)} disabled={!digest} data-testid="show-digest-tags">
        Tags of this digest
      </button>
      {open && digest ? <DigestTags stackId={stackId} serviceId={service.id} digest={digest} /> : null}
    </>
  );
}

function DigestTags({ stackId, serviceId, digest }: { stackId: string; serviceId: string; digest: string }) {
  const queryClient = useQueryClient();
  const snapshot = useQuery({
    queryKey: ['digest-tags', serviceId, digest],
    queryFn: ({ signal }) => call(api.GET('/api/services/{serviceId}/digest-tags-snapshot', { params: { path: { serviceId }, query: { digest } }, signal })) as Promise<Snapshot>,
    refetchInterval: (query) => (isPending(query.state.data) ? Math.max(query.state.data.retryAfterMs, MIN_RETRY_MS) : false),
    staleTime: 0,
  });
  const data = snapshot.data;
  const ready = data !== undefined && !isPending(data);
  // The snapshot that just arrived may give the service its version: show it on the card too.
  useEffect(() => {
    if (ready) void queryClient.invalidateQueries({ queryKey: ['stack', stackId] });
  }, [ready, stackId, queryClient]);

  return (
    <div className="subform digest-tags" data-testid="digest-tags" aria-live="polite">
      {snapshot.error ? (
        <p className="field-error">{snapshot.error.message}</p>
      ) : !data ? (
        <p className="muted">Loading the tags of this digest…</p>
      ) : isPending(data) ? (
        <p data-testid="digest-tags-pending">
          <Badge tone="neutral">pending</Badge> The snapshot is being taken; asking again in {Math.round(Math.max(data.retryAfterMs, MIN_RETRY_MS) / 100) / 10} s.
        </p>
      ) : (
        <>
          <p>
            {data.tags.length === 0 ? (
              <span className="muted">No tag of the repository points at this digest.</span>
            ) : (
              <>
                Tags:{' '}
                {data.tags.map((tag) => (
                  <code key={tag} className="tag" data-testid="digest-tag">
                    {tag}
                  </code>
                ))}
              </>
            )}
          </p>
          <p className="muted small">
            Snapshot <Time iso={data.checkedAt} />: {data.scan.repoTagsConsidered} of {data.scan.repoTagsTotal} tags inspected, {data.scan.manifestsOk} manifests read,{' '}
            {data.scan.manifestsTimeout} timed out, {data.scan.manifestsError} failed.
          </p>
        </>
      )}
    </div>
  );
}
