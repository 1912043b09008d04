// Quay notifications Dockrev manages itself: the Quay API it talks to, the OAuth token (masked),
// which registry host it covers, the audit schedule; and the audit and repair jobs on demand.
import { api, call } from '../api/client';
import { CheckField, TextField } from '../components/Field';
import { JobButton } from '../components/JobButton';
import type { Draft, View } from './form';

interface Props {
  draft: Draft;
  stored: View;
  errors: Record<string, string>;
  set: <K extends keyof Draft>(key: K, value: Draft[K]) => void;
}

const NOTHING_TO_REFRESH: string[][] = [];

export function QuayFields({ draft, stored, errors, set }: Props) {
  return (
    <fieldset data-testid="quay-settings">
      <legend>Quay notifications managed by Dockrev</legend>
      <p className="hint">With an API base URL and an OAuth token (repo:admin), Dockrev keeps exactly one "push" webhook notification on every Quay repository a service uses.</p>
      <TextField label="Quay API base URL" type="url" placeholder="https://quay.io" value={draft.quayApiBaseUrl} error={errors['quay.apiBaseUrl']} hint="Empty clears it." onChange={(event) => set('quayApiBaseUrl', event.target.value)} />
      <TextField
        label="Quay OAuth token"
        type="password"
        autoComplete="off"
        value={draft.quayOauthToken}
        error={errors['quay.oauthToken']}
        hint={stored.quay.oauthTokenMasked ? 'A token is stored; leave empty to keep it.' : 'Nothing stored yet.'}
        onChange={(event) => set('quayOauthToken', event.target.value)}
      />
      <TextField
        label="Quay registry host"
        placeholder="quay.io"
        value={draft.quayRegistryHost}
        error={errors['quay.registryHost']}
        hint="The host image references use for this Quay; empty: the API's own host when it is a Quay host."
        onChange={(event) => set('quayRegistryHost', event.target.value)}
      />
      <CheckField label="Audit the notifications on a schedule" checked={draft.auditEnabled} onChange={(event) => set('auditEnabled', event.target.checked)} />
      <TextField label="Audit schedule (cron)" value={draft.auditCron} error={errors['quay.audit.cron']} onChange={(event) => set('auditCron', event.target.value)} />
    </fieldset>
  );
}

/** Audit and repair run on the saved settings: outside the form, so they never submit it. */
export function QuayJobs() {
  return (
    <section className="card" aria-labelledby="quay-jobs-title">
      <h2 id="quay-jobs-title">Quay notifications</h2>
      <p className="muted">The audit creates missing notifications and reports failing ones; the repair also re-creates those Quay counts failures for. Both run on the saved settings.</p>
      <div className="actions">
        <JobButton label="Audit" busyLabel="Auditing…" testId="quay-audit" refresh={NOTHING_TO_REFRESH} start={async () => (await call(api.POST('/api/registry-webhooks/quay/audit'))).jobId} />
        <JobButton label="Repair" busyLabel="Repairing…" testId="quay-repair" refresh={NOTHING_TO_REFRESH} start={async () => (await call(api.POST('/api/registry-webhooks/quay/repair'))).jobId} />
      </div>
    </section>
  );
}
