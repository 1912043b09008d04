// System settings: backup, schedules (with their next run), the public base URL, the resource
// monitor; and the read-only view of how this request was authenticated.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { queries, type Schemas } from '../api/queries';
import { PageHeader, Skeleton } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { CheckField, SelectField, TextField } from '../components/Field';
import { SaveBar } from '../components/SaveBar';
import { absoluteTime, relativeTime, words } from '../format';
import { isHttpUrl, useDraftForm, type Errors } from '../forms';
import { nextRun } from '../schedule';

type View = Schemas['SettingsView'];
const MIB = 1024 * 1024;
const SAMPLE_INTERVALS = [10, 30, 60, 300];

export function SettingsPage() {
  const settings = useQuery(queries.settings());
  return (
    <>
      <PageHeader title="Settings" />
      {settings.error && !settings.data ? <ErrorView error={settings.error} onRetry={() => void settings.refetch()} /> : null}
      {settings.data ? (
        <>
          <SettingsForm initial={settings.data} />
          <AuthView auth={settings.data.auth} />
        </>
      ) : settings.isPending ? (
        <Skeleton lines={10} label="Loading settings" />
      ) : null}
    </>
  );
}

interface Draft {
  backupEnabled: boolean;
  requireSuccess: boolean;
  baseDir: string;
  skipOverMib: string;
  checkEnabled: boolean;
  checkCron: string;
  auditEnabled: boolean;
  auditCron: string;
  monitorEnabled: boolean;
  sampleIntervalSeconds: number;
  publicBaseUrl: string;
}

function draftOf(view: View): Draft {
  return {
    backupEnabled: view.backup.enabled,
    requireSuccess: view.backup.requireSuccess,
    baseDir: view.backup.baseDir,
    skipOverMib: String(Math.round((view.backup.skipTargetsOverBytes / MIB) * 100) / 100),
    checkEnabled: view.schedules.updateCheck.enabled,
    checkCron: view.schedules.updateCheck.cron,
    auditEnabled: view.schedules.ghcrWebhookAudit.enabled,
    auditCron: view.schedules.ghcrWebhookAudit.cron,
    monitorEnabled: view.resourceMonitor.enabled,
    sampleIntervalSeconds: view.resourceMonitor.sampleIntervalSeconds,
    publicBaseUrl: view.instance.publicBaseUrl ?? '',
  };
}

function validate(draft: Draft): Errors {
  const errors: Errors = {};
  if (!draft.baseDir.trim()) errors['backup.baseDir'] = 'Enter the folder backups are written to';
  const mib = Number(draft.skipOverMib);
  if (draft.skipOverMib.trim() === '' || !Number.isFinite(mib) || mib < 0) errors['backup.skipTargetsOverBytes'] = 'Enter a size in MiB (0 or more)';
  // The same parser as the server's (croner), so what passes here passes there.
  if (draft.checkEnabled && !nextRun(draft.checkCron)) errors['schedules.updateCheck.cron'] = 'Not a valid cron expression (5 fields, or 6 with seconds)';
  if (draft.auditEnabled && !nextRun(draft.auditCron)) errors['schedules.ghcrWebhookAudit.cron'] = 'Not a valid cron expression (5 fields, or 6 with seconds)';
  if (draft.publicBaseUrl.trim() && !isHttpUrl(draft.publicBaseUrl.trim())) errors['instance.publicBaseUrl'] = 'Enter an absolute http:// or https:// URL';
  return errors;
}

function bodyOf(draft: Draft): Schemas['SettingsUpdate'] {
  return {
    backup: {
      enabled: draft.backupEnabled,
      requireSuccess: draft.requireSuccess,
      baseDir: draft.baseDir.trim(),
      skipTargetsOverBytes: Math.round(Number(draft.skipOverMib) * MIB),
    },
    resourceMonitor: { enabled: draft.monitorEnabled, sampleIntervalSeconds: draft.sampleIntervalSeconds },
    schedules: {
      updateCheck: { enabled: draft.checkEnabled, cron: draft.checkCron.trim() },
      ghcrWebhookAudit: { enabled: draft.auditEnabled, cron: draft.auditCron.trim() },
    },
    instance: { publicBaseUrl: draft.publicBaseUrl.trim() || null },
  };
}

const SHOWN_INLINE = ['backup.baseDir', 'backup.skipTargetsOverBytes', 'schedules.updateCheck.cron', 'schedules.ghcrWebhookAudit.cron', 'instance.publicBaseUrl', 'resourceMonitor.sampleIntervalSeconds'];

function SettingsForm({ initial }: { initial: View }) {
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (body: Schemas['SettingsUpdate']) => call(api.PUT('/api/settings', { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['settings'] }),
  });
  const { draft, set, errors, onSubmit } = useDraftForm(() => draftOf(initial), validate, (clean) => save.mutate(bodyOf(clean)), save.error);

  return (
    <form className="card form" noValidate onSubmit={onSubmit}>
      <fieldset>
        <legend>Backup</legend>
        <CheckField label="Back up a stack's volumes and bind mounts before updating it" checked={draft.backupEnabled} onChange={(event) => set('backupEnabled', event.target.checked)} />
        <CheckField label="Stop the update when the backup fails" checked={draft.requireSuccess} onChange={(event) => set('requireSuccess', event.target.checked)} />
        <TextField label="Backup folder" name="baseDir" value={draft.baseDir} error={errors['backup.baseDir']} onChange={(event) => set('baseDir', event.target.value)} />
        <TextField
          label="Skip targets larger than (MiB)"
          name="skipOverMib"
          inputMode="decimal"
          value={draft.skipOverMib}
          error={errors['backup.skipTargetsOverBytes']}
          onChange={(event) => set('skipOverMib', event.target.value)}
        />
      </fieldset>
      <fieldset>
        <legend>Schedules</legend>
        <ScheduleFields
          toggle="Check for updates on a schedule"
          label="Update check schedule (cron)"
          enabled={draft.checkEnabled}
          cron={draft.checkCron}
          stored={initial.schedules.updateCheck}
          error={errors['schedules.updateCheck.cron']}
          onEnabled={(value) => set('checkEnabled', value)}
          onCron={(value) => set('checkCron', value)}
        />
        <ScheduleFields
          toggle="Audit GitHub package webhooks on a schedule"
          label="Webhook audit schedule (cron)"
          enabled={draft.auditEnabled}
          cron={draft.auditCron}
          stored={initial.schedules.ghcrWebhookAudit}
          error={errors['schedules.ghcrWebhookAudit.cron']}
          onEnabled={(value) => set('auditEnabled', value)}
          onCron={(value) => set('auditCron', value)}
        />
      </fieldset>
      <fieldset>
        <legend>Instance</legend>
        <TextField
          label="Public base URL"
          name="publicBaseUrl"
          type="url"
          placeholder="https://dockrev.example.com/"
          value={draft.publicBaseUrl}
          error={errors['instance.publicBaseUrl']}
          hint="Used for links in notifications. Leave empty to unset."
          onChange={(event) => set('publicBaseUrl', event.target.value)}
        />
      </fieldset>
      <fieldset>
        <legend>Resource monitor</legend>
        <CheckField label="Sample container resource usage" checked={draft.monitorEnabled} onChange={(event) => set('monitorEnabled', event.target.checked)} />
        <SelectField
          label="Sample every"
          value={draft.sampleIntervalSeconds}
          error={errors['resourceMonitor.sampleIntervalSeconds']}
          hint={`Samples are kept ${initial.resourceMonitor.retentionDays} days.`}
          onChange={(event) => set('sampleIntervalSeconds', Number(event.target.value))}
        >
          {SAMPLE_INTERVALS.map((seconds) => (
            <option key={seconds} value={seconds}>
              {seconds < 60 ? `${seconds} seconds` : `${seconds / 60} minute${seconds === 60 ? '' : 's'}`}
            </option>
          ))}
        </SelectField>
      </fieldset>
      <SaveBar save={save} label="Save settings" shownInline={SHOWN_INLINE} testId="save-settings" />
    </form>
  );
}

interface ScheduleProps {
  toggle: string;
  label: string;
  enabled: boolean;
  cron: string;
  stored: Schemas['SettingsSchedule'];
  error?: string;
  onEnabled: (value: boolean) => void;
  onCron: (value: string) => void;
}

function ScheduleFields(props: ScheduleProps) {
  return (
    <>
      <CheckField label={props.toggle} checked={props.enabled} onChange={(event) => props.onEnabled(event.target.checked)} />
      <TextField label={props.label} value={props.cron} error={props.error} hint={<NextRun {...props} />} onChange={(event) => props.onCron(event.target.value)} />
    </>
  );
}

/**
 * The saved schedule's next run as the server plans it (its clock, its time zone, its scheduler
 * running); while the draft differs, a preview computed here with the server's parser.
 */
function NextRun({ cron, enabled, stored }: ScheduleProps) {
  const saved = cron.trim() === stored.cron && enabled === stored.enabled;
  if (saved) {
    if (!enabled) return <>Switched off.</>;
    if (!stored.nextRunAt) return <span data-testid="next-run">On, but not planned on this instance (its scheduler is not running here).</span>;
    return (
      <span data-testid="next-run">
        Next run {relativeTime(stored.nextRunAt)} ({absoluteTime(stored.nextRunAt)}).
      </span>
    );
  }
  const next = nextRun(cron);
  if (!next) return <>5 fields (minute hour day month weekday), or 6 with seconds first.</>;
  return (
    <span data-testid="next-run">
      After saving, {enabled ? 'would next run' : 'would run (once switched on)'} about {relativeTime(next.toISOString())} ({absoluteTime(next)}, this browser's time zone).
    </span>
  );
}

function AuthView({ auth }: { auth: Schemas['SettingsAuth'] }) {
  return (
    <section className="card" aria-labelledby="auth-title">
      <h2 id="auth-title">Authentication</h2>
      <p className="muted small">Set by environment variables (DOCKREV_AUTH_*); shown as this request saw it.</p>
      <dl className="facts">
        <dt>You are</dt>
        <dd data-testid="auth-user">{auth.currentUser ?? 'anonymous'}</dd>
        <dt>Matched by</dt>
        <dd>{auth.matchedBy ? words(auth.matchedBy) : 'no allowlist (open access)'}</dd>
        <dt>Groups</dt>
        <dd>{auth.currentGroups.length ? auth.currentGroups.join(', ') : 'none'}</dd>
        <dt>Allowlist</dt>
        <dd>
          {words(auth.authorizationMode)}
          {auth.allowedUserMasked ? (
            <>
              {' '}
              · user <code>{auth.allowedUserMasked}</code>
            </>
          ) : null}
          {auth.allowedGroupMasked ? (
            <>
              {' '}
              · group <code>{auth.allowedGroupMasked}</code>
            </>
          ) : null}
        </dd>
        <dt>Identity headers</dt>
        <dd>
          <code>{auth.forwardHeaderName}</code>, <code>{auth.groupHeaderName}</code>
        </dd>
        <dt>Anonymous access</dt>
        <dd>{auth.allowAnonymousInDev ? 'allowed while no allowlist is configured' : 'off'}</dd>
      </dl>
    </section>
  );
}
