// The deploy check: can this Dockrev do its work here? Every core and feature check with its
// status, why it does not apply, what was seen, what failing means and what to do; the required
// checks that failed (they block) first and marked.
import { useQuery } from '@tanstack/react-query';
import { queries, type Schemas } from '../api/queries';
import { Badge, PageHeader, Skeleton, Time } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { words } from '../format';

type Check = Schemas['DeployCheckItem'];
const TONES = { pass: 'ok', warn: 'warn', fail: 'bad', na: 'neutral' } as const;
const STATUS_TEXT = { pass: 'pass', warn: 'warning', fail: 'fail', na: 'not applicable' } as const;
const ORDER = { fail: 0, warn: 1, pass: 2, na: 3 } as const;

export function DeployCheckPage() {
  const report = useQuery(queries.deployCheck());
  return (
    <>
      <PageHeader title="Deploy check">
        <button type="button" onClick={() => void report.refetch()} disabled={report.isFetching} data-testid="deploy-check-run">
          {report.isFetching ? 'Checking…' : 'Check again'}
        </button>
      </PageHeader>
      <p className="muted">What Dockrev needs on this host and for the features that are switched on. Nothing is changed and no job is started.</p>
      {report.error && !report.data ? <ErrorView error={report.error} onRetry={() => void report.refetch()} /> : null}
      {report.isPending ? <Skeleton lines={8} label="Running the deploy check" /> : null}
      {report.data ? <Report report={report.data} /> : null}
    </>
  );
}

function Report({ report }: { report: Schemas['DeployCheckReport'] }) {
  const blocking = new Set(report.overall.blockingCheckIds);
  const checks = [...report.checks].sort((a, b) => Number(blocking.has(b.id)) - Number(blocking.has(a.id)) || ORDER[a.status] - ORDER[b.status]);
  const passed = report.overall.result === 'pass';
  return (
    <>
      <div className={`alert ${passed ? 'alert-ok' : 'alert-bad'}`} role="status" data-testid="deploy-check-overall" data-result={report.overall.result}>
        <p className="alert-title">{passed ? 'Ready' : 'Not ready'}: {report.overall.summary}</p>
        {blocking.size > 0 ? (
          <p>
            Blocking: {[...blocking].map((id) => report.checks.find((check) => check.id === id)?.title ?? id).join(', ')}
          </p>
        ) : null}
        <p className="small">
          Checked <Time iso={report.generatedAt} />.
        </p>
      </div>
      {(['core', 'feature'] as const).map((group) => (
        <section key={group} aria-labelledby={`checks-${group}`}>
          <h2 id={`checks-${group}`}>{group === 'core' ? 'Core' : 'Features'}</h2>
          <ul className="check-list">
            {checks
              .filter((check) => check.group === group)
              .map((check) => (
                <CheckItem key={check.id} check={check} blocking={blocking.has(check.id)} />
              ))}
          </ul>
        </section>
      ))}
    </>
  );
}

function CheckItem({ check, blocking }: { check: Check; blocking: boolean }) {
  return (
    <li className={`card check-item${blocking ? ' blocking' : ''}`} data-testid="deploy-check-item" data-check-id={check.id} data-status={check.status} data-blocking={blocking ? 'true' : undefined}>
      <div className="service-head">
        <h3>{check.title}</h3>
        <Badge tone={TONES[check.status]}>{STATUS_TEXT[check.status]}</Badge>
        {blocking ? <Badge tone="bad">blocking</Badge> : check.required ? <span className="muted small">required</span> : null}
      </div>
      <p>
        {check.summary}
        {check.naReason ? <span className="muted"> ({words(check.naReason)})</span> : null}
      </p>
      {/* What does not apply stays one line until asked for. */}
      {check.status === 'na' ? (
        <details>
          <summary className="small">Details</summary>
          <CheckFacts check={check} />
        </details>
      ) : (
        <CheckFacts check={check} />
      )}
    </li>
  );
}

function CheckFacts({ check }: { check: Check }) {
  return (
    <>
      <dl className="facts">
        <dt>Impact</dt>
        <dd>{check.impact}</dd>
        <dt>Evidence</dt>
        <dd>
          <code>{check.evidence}</code>
        </dd>
        <dt>Recommendation</dt>
        <dd>{check.recommendation}</dd>
      </dl>
      <p className="muted small">
        <code>{check.id}</code>
      </p>
    </>
  );
}
