// A finished job's summary as a result a person reads: what changed, what rolled back, where the
// backup went, which step failed. The raw document stays one click away.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { queries, type JobDetail, type Schemas } from '../api/queries';
import { Digest, TableWrap } from '../components/bits';
import { count, words } from '../format';
import { GITHUB_JOB_TYPES, GithubHookResult, integrationOutcome, QUAY_JOB_TYPE, QuayNotificationsResult } from './IntegrationJobSummary';

type Summary = Record<string, unknown>;

interface BackupResult {
  status?: 'success' | 'failed' | 'skipped';
  reason?: string;
  error?: string;
  artifactPath?: string;
}

interface StackUpdate {
  changedServices?: number;
  oldDigests?: Record<string, string>;
  newDigests?: Record<string, string>;
  finalDigests?: Record<string, string>;
  rollback?: { trigger: string; error?: string };
  failureStep?: string;
  error?: string;
  pullTagWarnings?: { tagRef: string; error?: string; lastError?: string }[];
}

interface StackResult {
  stackId: string;
  backup?: BackupResult;
  update?: StackUpdate;
}

/** One sentence for the outcome, for the job list and the top of the job page. */
export function outcomeOf(job: Pick<JobDetail, 'type' | 'status' | 'summary'>): string {
  const summary = job.summary as Summary;
  const stacks = (summary.stacks as StackResult[] | undefined) ?? [];
  const failureStep = stacks.find((stack) => stack.update?.failureStep)?.update?.failureStep;
  switch (job.status) {
    case 'queued':
      return 'Waiting for a worker';
    case 'running':
      return job.summary.progress?.message ?? 'Running';
    case 'rolled_back':
      return `Rolled back${failureStep ? ` after the ${words(failureStep)} step failed` : ''}: the previous version runs again`;
    case 'failed': {
      const terminated = (summary.terminated as { reason?: string } | undefined)?.reason;
      if (terminated) return `Stopped: ${words(terminated)}`;
      return `Failed${failureStep ? ` at ${words(failureStep)}` : ''}: ${String(summary.error ?? stacks.find((s) => s.update?.error)?.update?.error ?? 'see the log')}`;
    }
    case 'success':
      break;
  }
  if (job.type === 'update') {
    if (summary.mode === 'dry-run') return 'Dry run passed: nothing was changed';
    const changed = stacks.reduce((sum, stack) => sum + (stack.update?.changedServices ?? 0), 0);
    return changed === 0 ? 'Nothing to update' : `Updated ${count(changed, 'service')}`;
  }
  if (job.type === 'check') {
    const found = Number(summary.servicesWithCandidate ?? 0);
    return `Checked ${count(Number(summary.servicesChecked ?? 0), 'service')}: ${found} with a newer image`;
  }
  if (job.type === 'discovery' && summary.scan) {
    const counts = (summary.scan as Schemas['DiscoveryScanResult']).summary;
    return `Saw ${count(counts.projectsSeen, 'project')}: ${counts.stacksCreated} new, ${counts.stacksUpdated} updated, ${counts.stacksFailed} failed`;
  }
  const integration = integrationOutcome(job.type, summary);
  if (integration) return integration;
  if (job.type === 'runtime_scan') return `Scanned ${count(Number(summary.stacksScanned ?? 0), 'stack')}: ${Number(summary.servicesDrifted ?? 0)} drifted`;
  return 'Done';
}

export function JobSummary({ job }: { job: JobDetail }) {
  const summary = job.summary as Summary;
  return (
    <section aria-labelledby="job-result" className="card">
      <h2 id="job-result">Result</h2>
      <p className="outcome" data-testid="job-outcome">
        {outcomeOf(job)}
      </p>
      {job.resultReason ? (
        <p>
          {job.resultReason.summary}: {job.resultReason.detail}
        </p>
      ) : null}
      {job.type === 'update' ? <UpdateResult summary={summary} /> : null}
      {job.type === 'discovery' && summary.scan ? <DiscoveryResult scan={summary.scan as Schemas['DiscoveryScanResult']} /> : null}
      {job.type === 'check' ? <CheckResult summary={summary} /> : null}
      {(GITHUB_JOB_TYPES as readonly string[]).includes(job.type) ? <GithubHookResult summary={summary} /> : null}
      {job.type === QUAY_JOB_TYPE ? <QuayNotificationsResult summary={summary} /> : null}
      <details>
        <summary>Raw summary</summary>
        <pre className="raw">{JSON.stringify(job.summary, null, 2)}</pre>
      </details>
    </section>
  );
}

/** A stack's name when it is known (cached or fetched), else its id. */
export function StackName({ stackId }: { stackId: string }) {
  const stack = useQuery({ ...queries.stack(stackId), retry: false });
  return <>{stack.data?.name ?? stackId}</>;
}

export function ServiceName({ stackId, serviceId }: { stackId: string; serviceId: string }) {
  const stack = useQuery({ ...queries.stack(stackId), retry: false });
  const name = stack.data?.services.find((service) => service.id === serviceId)?.name;
  return <>{name ?? serviceId}</>;
}

function UpdateResult({ summary }: { summary: Summary }) {
  const stacks = (summary.stacks as StackResult[] | undefined) ?? [];
  return (
    <>
      {stacks.map((stack) => (
        <div key={stack.stackId} className="result-stack">
          <h3>
            Stack{' '}
            <Link href={`/stacks/${stack.stackId}`}>
              <StackName stackId={stack.stackId} />
            </Link>
          </h3>
          <BackupLine backup={stack.backup} />
          {stack.update?.failureStep ? (
            <p>
              Failed step: <strong>{words(stack.update.failureStep)}</strong>
              {stack.update.error ? ` — ${stack.update.error}` : null}
            </p>
          ) : null}
          {stack.update?.rollback ? (
            <p>
              Rolled back ({words(stack.update.rollback.trigger)}){stack.update.rollback.error ? `, rollback error: ${stack.update.rollback.error}` : ''}
            </p>
          ) : null}
          <ImageTable stackId={stack.stackId} update={stack.update} />
          {stack.update?.pullTagWarnings?.map((warning) => (
            <p key={warning.tagRef} className="muted">
              Could not pull {warning.tagRef}: {warning.lastError ?? warning.error}
            </p>
          ))}
        </div>
      ))}
    </>
  );
}

function BackupLine({ backup }: { backup: BackupResult | undefined }) {
  if (!backup?.status) return null;
  if (backup.status === 'success') {
    return (
      <p>
        Backup archive: <code>{backup.artifactPath ?? 'written'}</code>
      </p>
    );
  }
  if (backup.status === 'failed') return <p>Backup failed: {backup.error ?? 'unknown error'}</p>;
  return <p className="muted">Backup skipped{backup.reason ? ` (${words(backup.reason)})` : ''}</p>;
}

/** Image ids per service: before, after the recreate, and what runs now (the old one after a rollback). */
function ImageTable({ stackId, update }: { stackId: string; update: StackUpdate | undefined }) {
  const ids = Object.keys({ ...update?.oldDigests, ...update?.finalDigests });
  if (!update || ids.length === 0) return null;
  return (
    <TableWrap label="Images before and after">
      <table>
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">Before</th>
            <th scope="col">New image</th>
            <th scope="col">Running now</th>
          </tr>
        </thead>
        <tbody>
          {ids.map((serviceId) => (
            <tr key={serviceId}>
              <td>
                <ServiceName stackId={stackId} serviceId={serviceId} />
              </td>
              <td>
                <Digest digest={update.oldDigests?.[serviceId]} />
              </td>
              <td>
                <Digest digest={update.newDigests?.[serviceId]} />
              </td>
              <td>
                <Digest digest={update.finalDigests?.[serviceId]} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function CheckResult({ summary }: { summary: Summary }) {
  const text = (key: string) => (typeof summary[key] === 'string' ? (summary[key] as string) : undefined);
  const source = text('source');
  return (
    <>
      {source ? (
        <p data-testid="check-source">
          Started by a push notice from <strong>{words(source)}</strong>
          {text('registry') ? ` (${text('registry')})` : ''}
          {text('repo') ? ` for ${text('repo')}` : ''}
          {text('eventId') ? `, event ${text('eventId')}` : ''}
          {text('deliveryId') ? `, delivery ${text('deliveryId')}` : ''}.
        </p>
      ) : null}
      {summary.hostPlatform !== undefined ? (
        <p className="muted">
          Host platform <code>{String(summary.hostPlatform)}</code>, scope {String(summary.scope)}.
        </p>
      ) : null}
    </>
  );
}

export function DiscoveryResult({ scan }: { scan: Schemas['DiscoveryScanResult'] }) {
  if (scan.actions.length === 0) return <p className="muted">No Compose projects changed.</p>;
  return (
    <TableWrap label="Discovery actions">
      <table>
        <thead>
          <tr>
            <th scope="col">Project</th>
            <th scope="col">Action</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {scan.actions.map((action) => (
            <tr key={`${action.project}-${action.action}`}>
              <td>{action.stackId ? <Link href={`/stacks/${action.stackId}`}>{action.project}</Link> : action.project}</td>
              <td>{words(action.action)}</td>
              <td>{action.reason ? words(action.reason) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
