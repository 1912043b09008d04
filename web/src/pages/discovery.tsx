// Discovery: the Compose projects Dockrev has seen, active, missing or invalid (with the reason),
// archive/restore, a scan on demand, and what the last scan did.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { queries, type Schemas } from '../api/queries';
import { Badge, PageHeader, Skeleton, Time } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { ArchivedSelect, useArchivedParam } from '../components/filters';
import { DiscoverButton } from '../components/JobButton';
import { words } from '../format';
import { DiscoveryResult } from '../jobs/JobSummary';

const TONES = { active: 'ok', missing: 'warn', invalid: 'bad' } as const;

export function DiscoveryPage() {
  const [archived, setArchived] = useArchivedParam();
  const projects = useQuery(queries.discoveryProjects(archived));
  return (
    <>
      <PageHeader title="Discovery">
        <DiscoverButton />
      </PageHeader>
      <p className="muted">Dockrev scans the Docker host for Compose projects on its own; each project becomes a stack.</p>
      <div className="filters" role="group" aria-label="Filters">
        <ArchivedSelect label="Archived projects" value={archived} onChange={setArchived} />
      </div>
      {projects.error && !projects.data ? <ErrorView error={projects.error} onRetry={() => void projects.refetch()} /> : null}
      {projects.isPending ? <Skeleton lines={4} label="Loading projects" /> : null}
      {projects.data && projects.data.length === 0 ? <p className="card">No Compose project seen yet.</p> : null}
      {projects.data && projects.data.length > 0 ? (
        <ul className="project-list" data-testid="project-list">
          {projects.data.map((project) => (
            <ProjectRow key={project.project} project={project} />
          ))}
        </ul>
      ) : null}
      <LastScan />
    </>
  );
}

function ProjectRow({ project }: { project: Schemas['DiscoveryProject'] }) {
  const queryClient = useQueryClient();
  const toggle = useMutation({
    mutationFn: () => {
      const path = { params: { path: { project: project.project } } };
      return call(project.archived ? api.POST('/api/discovery/projects/{project}/restore', path) : api.POST('/api/discovery/projects/{project}/archive', path));
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['discovery-projects'] }),
  });
  return (
    <li className="card project-row" data-testid="project-row" data-project={project.project}>
      <div className="service-head">
        <h2>{project.stackId ? <Link href={`/stacks/${project.stackId}`}>{project.project}</Link> : project.project}</h2>
        <Badge tone={TONES[project.status]}>{project.status}</Badge>
        {project.archived ? <Badge tone="neutral">archived</Badge> : null}
      </div>
      {project.lastError ? (
        <p data-testid="project-error">
          Why it is {project.status}: <strong>{words(project.lastError)}</strong>
        </p>
      ) : project.status === 'missing' ? (
        <p>No running container of this project was seen in the last scan.</p>
      ) : null}
      <dl className="facts">
        <dt>Compose files</dt>
        <dd>{project.configFiles?.length ? project.configFiles.map((file) => <code key={file} className="path">{file}</code>) : <span className="muted">unknown</span>}</dd>
        <dt>Last seen</dt>
        <dd>
          <Time iso={project.lastSeenAt} />
        </dd>
        <dt>Last scan</dt>
        <dd>
          <Time iso={project.lastScanAt} />
        </dd>
      </dl>
      <div className="actions">
        <button type="button" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
          {project.archived ? 'Restore project' : 'Archive project'}
        </button>
        {toggle.error ? <span className="field-error">{toggle.error.message}</span> : null}
      </div>
    </li>
  );
}

function LastScan() {
  const jobs = useQuery(queries.jobs({ type: 'discovery', limit: 1 }));
  const last = jobs.data?.jobs[0];
  const scan = last?.summary.scan;
  if (!last) return null;
  return (
    <section className="card" aria-labelledby="last-scan">
      <h2 id="last-scan">Last scan on demand</h2>
      <p>
        <Link href={`/jobs/${last.id}`}>
          <Time iso={last.createdAt} />
        </Link>{' '}
        {last.summary.error ? `failed: ${last.summary.error}` : null}
      </p>
      {scan ? <DiscoveryResult scan={scan} /> : null}
    </section>
  );
}
