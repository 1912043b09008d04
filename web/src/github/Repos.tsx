// The tracked repositories: search, selected filter and pages; per repository select (which
// registers its hook), sync and delete (which unregisters it), each linked to its job; and the
// selection of every repository matching the filters at once.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { queries, type GithubRepoFilter, type Schemas } from '../api/queries';
import { Badge, Skeleton, TableHead, TableWrap, Time } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { FilterSelect } from '../components/filters';
import { Pager, SearchBox, useFilterParam, usePageParam } from '../components/Paging';
import { words } from '../format';

type Repo = Schemas['GithubPackagesRepo'];
type Selected = 'all' | 'selected' | 'unselected';
const PER_PAGE = 25;
const TONES = { ok: 'ok', queued: 'neutral', running: 'info', missing: 'warn', conflict: 'bad', error: 'bad', unknown: 'neutral' } as const;
/** While a hook job works on a listed repository, its row is looked at again this often. */
const BUSY_REFRESH_MS = 1000;
const busy = (repo: Repo) => repo.webhookState === 'queued' || repo.webhookState === 'running';

export function Repos() {
  const [q, setQ] = useFilterParam('q');
  const [selectedParam, setSelected] = useFilterParam('selected');
  const [page, setPage] = usePageParam();
  const selectedFilter: Selected = selectedParam === 'selected' || selectedParam === 'unselected' ? selectedParam : 'all';
  const filter: GithubRepoFilter = { q: q ?? undefined, selectedFilter, page, perPage: PER_PAGE };
  const repos = useQuery({
    ...queries.githubRepos(filter),
    placeholderData: keepPreviousData,
    refetchInterval: (query) => (query.state.data?.repos.some(busy) ? BUSY_REFRESH_MS : false),
  });
  return (
    <section className="card" aria-labelledby="repos-title">
      <h2 id="repos-title">Repositories</h2>
      <div className="filters" role="group" aria-label="Repository filters">
        <SearchBox label="Search" value={q ?? ''} onChange={setQ} placeholder="owner/repo" testId="github-repo-q" />
        <FilterSelect
          label="Show"
          value={selectedFilter}
          options={[
            { value: 'all', label: 'all' },
            { value: 'selected', label: 'selected' },
            { value: 'unselected', label: 'not selected' },
          ]}
          onChange={(value) => setSelected(value === 'all' ? undefined : value)}
        />
        <BulkSelect filter={filter} />
      </div>
      {repos.error && !repos.data ? <ErrorView error={repos.error} onRetry={() => void repos.refetch()} /> : null}
      {repos.isPending ? <Skeleton lines={3} label="Loading repositories" /> : null}
      {repos.data ? (
        <>
          <p className="muted small">
            {repos.data.filteredTotal} shown of {repos.data.total} tracked, {repos.data.selectedTotal} selected.
          </p>
          {repos.data.repos.length > 0 ? <RepoTable repos={repos.data.repos} /> : <p>No repository matches these filters.</p>}
          <Pager page={repos.data.page} perPage={repos.data.perPage} total={repos.data.filteredTotal} onPage={setPage} label="Repository pages" />
        </>
      ) : null}
    </section>
  );
}

function BulkSelect({ filter }: { filter: GithubRepoFilter }) {
  const queryClient = useQueryClient();
  const bulk = useMutation({
    mutationFn: (selected: boolean) => call(api.POST('/api/github-packages/repos/bulk-selected', { body: { q: filter.q, selectedFilter: filter.selectedFilter, selected } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['github'] }),
  });
  return (
    <span className="inline-select">
      <button type="button" onClick={() => bulk.mutate(true)} disabled={bulk.isPending} data-testid="github-bulk-select">
        Select all matching
      </button>
      <button type="button" onClick={() => bulk.mutate(false)} disabled={bulk.isPending}>
        Deselect all matching
      </button>
      <span className="small" aria-live="polite">
        {bulk.error ? <span className="field-error">{bulk.error.message}</span> : bulk.data ? `${bulk.data.affected} changed; sync to register their hooks.` : null}
      </span>
    </span>
  );
}

function RepoTable({ repos }: { repos: Repo[] }) {
  return (
    <TableWrap label="Tracked repositories">
      <table data-testid="github-repos">
        <TableHead columns={['Selected', 'Repository', 'Webhook', 'Last sync / audit', 'Actions']} />
        <tbody>
          {repos.map((repo) => (
            <RepoRow key={repo.fullName} repo={repo} />
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function RepoRow({ repo }: { repo: Repo }) {
  const queryClient = useQueryClient();
  const changed = () => queryClient.invalidateQueries({ queryKey: ['github'] });
  const body = { fullName: repo.fullName };
  // What was asked for, shown until the list has what the server stored.
  const [wanted, setWanted] = useState<boolean>();
  const select = useMutation({
    mutationFn: (selected: boolean) => call(api.POST('/api/github-packages/repos/selected', { body: { ...body, selected } })),
    onSettled: async () => {
      await changed();
      setWanted(undefined);
    },
  });
  const sync = useMutation({ mutationFn: () => call(api.POST('/api/github-packages/webhook/sync-repo', { body })), onSettled: changed });
  const remove = useMutation({ mutationFn: () => call(api.POST('/api/github-packages/repos/delete', { body })), onSettled: changed });
  const error = select.error ?? sync.error ?? remove.error;
  const jobId = remove.data?.jobId ?? sync.data?.jobId ?? select.data?.jobId ?? repo.webhookJobId;
  return (
    <tr data-testid="github-repo" data-repo={repo.fullName} data-state={repo.webhookState}>
      <td>
        <input
          type="checkbox"
          checked={wanted ?? repo.selected}
          disabled={select.isPending}
          aria-label={`Select ${repo.fullName}`}
          onChange={(event) => {
            setWanted(event.target.checked);
            select.mutate(event.target.checked);
          }}
          data-testid="github-repo-select"
        />
      </td>
      <td>
        <code>{repo.fullName}</code>
      </td>
      <td>
        <Badge tone={TONES[repo.webhookState]}>{repo.webhookState}</Badge>
        {repo.hookId ? <span className="muted small"> hook {repo.hookId}</span> : null}
        {repo.lastOp ? <span className="muted small"> · {words(repo.lastOp)}</span> : null}
        {jobId ? (
          <>
            {' '}
            <Link href={`/jobs/${jobId}`} className="small">
              job
            </Link>
          </>
        ) : null}
        {repo.lastError ? <div className="field-error wrap">{repo.lastError}</div> : null}
        {error ? <div className="field-error wrap">{error.message}</div> : null}
      </td>
      <td className="small">
        <Time iso={repo.lastSyncAt} /> / <Time iso={repo.lastAuditAt} />
      </td>
      <td>
        <span className="inline-select">
          <button type="button" onClick={() => sync.mutate()} disabled={!repo.selected || sync.isPending || busy(repo)}>
            Sync
          </button>
          <button type="button" onClick={() => remove.mutate()} disabled={remove.isPending}>
            Delete
          </button>
        </span>
      </td>
    </tr>
  );
}
