// The summaries of the jobs that manage webhooks elsewhere, as results a person reads: GitHub
// hook jobs (register, unregister, audit, sync) per repository, and the Quay notification
// audit/repair per repository, with their counts and what comes next (a retry).
import { Link } from 'wouter';
import { Badge, TableHead, TableWrap, Time } from '../components/bits';
import { count, words } from '../format';

type Summary = Record<string, unknown>;

export const GITHUB_JOB_TYPES = ['github_packages_webhook', 'github_packages_webhook_sync_all', 'github_packages_webhook_sync_repo'] as const;
export const QUAY_JOB_TYPE = 'quay_notifications';

interface GithubRepoResult {
  repo: string;
  state: string;
  hookId?: number;
  action?: string;
  message?: string;
  conflictHookIds?: number[];
}

interface QuayRepositoryReport {
  registry: string;
  repository: string;
  state: 'ok' | 'created' | 'failing' | 'recreated' | 'error';
  uuid?: string;
  numberOfFailures?: number;
  removed: number;
  error?: string;
}

const TONES: Record<string, 'ok' | 'warn' | 'bad' | 'neutral' | 'info'> = {
  ok: 'ok',
  created: 'info',
  recreated: 'info',
  deleted: 'neutral',
  skipped: 'neutral',
  missing: 'warn',
  failing: 'warn',
  conflict: 'bad',
  error: 'bad',
};

const OP_TEXT: Record<string, string> = {
  register: 'Registered hooks',
  unregister: 'Removed hooks',
  audit_all: 'Audited hooks',
  sync_all: 'Synced hooks',
  sync_repo: 'Synced the hook',
  audit: 'Audited Quay notifications',
  repair: 'Repaired Quay notifications',
};

const numbers = (value: unknown) => (value && typeof value === 'object' ? (value as Record<string, number>) : {});

/** One sentence for a successful integration job, or undefined for other job types. */
export function integrationOutcome(type: string, summary: Summary): string | undefined {
  const op = String(summary.op ?? '');
  const counts = numbers(summary.counts);
  if ((GITHUB_JOB_TYPES as readonly string[]).includes(type)) {
    const repos = Array.isArray(summary.repos) ? summary.repos.length : 0;
    const found = ['missing', 'conflict', 'error'].filter((state) => counts[state]).map((state) => `${counts[state]} ${state}`);
    return `${OP_TEXT[op] ?? 'GitHub hooks'} on ${count(repos, 'repository', 'repositories')}: ${counts.ok ?? 0} ok${found.length ? `, ${found.join(', ')}` : ''}${counts.deleted ? `, ${counts.deleted} deleted` : ''}`;
  }
  if (type === QUAY_JOB_TYPE) {
    const found = ['created', 'failing', 'recreated', 'error'].filter((state) => counts[state]).map((state) => `${counts[state]} ${state}`);
    return `${OP_TEXT[op] ?? 'Quay notifications'} of ${count(counts.repositories ?? 0, 'repository', 'repositories')}: ${counts.ok ?? 0} ok${found.length ? `, ${found.join(', ')}` : ''}`;
  }
  return undefined;
}

export function GithubHookResult({ summary }: { summary: Summary }) {
  const results = (summary.results as GithubRepoResult[] | undefined) ?? [];
  return (
    <div data-testid="github-job-result">
      <p>
        Operation: <strong>{words(String(summary.op ?? 'unknown'))}</strong>
        {typeof summary.attempt === 'number' && summary.attempt > 1 ? ` (attempt ${summary.attempt})` : ''}
        {typeof summary.retryOf === 'string' ? (
          <>
            , retrying <Link href={`/jobs/${summary.retryOf}`}>{summary.retryOf}</Link>
          </>
        ) : null}
      </p>
      {typeof summary.retryJobId === 'string' ? (
        <p>
          Retried by <Link href={`/jobs/${summary.retryJobId}`}>{summary.retryJobId}</Link>
          {typeof summary.retryAt === 'string' ? (
            <>
              {' '}
              <Time iso={summary.retryAt} />
            </>
          ) : null}
          .
        </p>
      ) : null}
      {results.length > 0 ? (
        <TableWrap label="Repositories">
          <table>
            <TableHead columns={['Repository', 'Hook', 'Action', 'Detail']} />
            <tbody>
              {results.map((result) => (
                <tr key={result.repo} data-repo={result.repo}>
                  <td>
                    <code>{result.repo}</code>
                  </td>
                  <td>
                    <Badge tone={TONES[result.state] ?? 'neutral'}>{result.state}</Badge>
                    {result.hookId ? <span className="muted small"> {result.hookId}</span> : null}
                  </td>
                  <td>{result.action ?? '—'}</td>
                  <td className="wrap">
                    {result.message ?? ''}
                    {result.conflictHookIds?.length ? ` (hooks ${result.conflictHookIds.join(', ')})` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : (
        <p className="muted">No repository was worked on.</p>
      )}
    </div>
  );
}

export function QuayNotificationsResult({ summary }: { summary: Summary }) {
  const reports = (summary.repositories as QuayRepositoryReport[] | undefined) ?? [];
  const counts = numbers(summary.counts);
  return (
    <div data-testid="quay-job-result">
      <p>
        Operation: <strong>{String(summary.op ?? 'unknown')}</strong>
        {typeof summary.callbackUrl === 'string' ? (
          <>
            {' '}
            · notifications call <code>{summary.callbackUrl}</code>
          </>
        ) : null}
      </p>
      {counts.removed ? <p>Removed {count(counts.removed, 'copy or outdated notification', 'copies or outdated notifications')}.</p> : null}
      {reports.length > 0 ? (
        <TableWrap label="Quay repositories">
          <table>
            <TableHead columns={['Repository', 'Notification', 'Failures', 'Detail']} />
            <tbody>
              {reports.map((report) => (
                <tr key={`${report.registry}/${report.repository}`}>
                  <td>
                    <code>
                      {report.registry}/{report.repository}
                    </code>
                  </td>
                  <td>
                    <Badge tone={TONES[report.state] ?? 'neutral'}>{report.state}</Badge>
                    {report.uuid ? <span className="muted small"> {report.uuid}</span> : null}
                  </td>
                  <td>{report.numberOfFailures ?? 0}</td>
                  <td className="wrap">
                    {report.removed ? `${report.removed} removed` : ''}
                    {report.error ? <span className="field-error">{report.error}</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : (
        <p className="muted">No service uses a Quay repository: nothing to manage.</p>
      )}
    </div>
  );
}
