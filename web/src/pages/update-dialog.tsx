// The update dialog: exactly what will change (service, current → candidate version and digest,
// backup mode, targets and size limit), then the job followed live in place.
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { queries, type Schemas, type ServiceDetail, type StackDetail } from '../api/queries';
import { ArchBadge, Version } from '../components/bits';
import { Dialog } from '../components/Dialog';
import { ErrorView } from '../components/ErrorView';
import { CheckField, SelectField } from '../components/Field';
import { bytes } from '../format';
import { JobLive } from '../jobs/JobLive';

type BackupMode = Schemas['BackupMode'];
type UpdateMode = Schemas['UpdateMode'];

interface Props {
  stack: StackDetail;
  services: ServiceDetail[];
  open: boolean;
  onClose: () => void;
}

export function UpdateDialog({ stack, services, open, onClose }: Props) {
  const [jobId, setJobId] = useState<string>();
  const close = () => {
    setJobId(undefined);
    onClose();
  };
  const title = services.length === 1 ? `Update ${services[0]!.name}` : `Update ${services.length} services of ${stack.name}`;
  return (
    <Dialog title={title} open={open} onClose={close} wide>
      {jobId ? (
        <>
          <JobLive key={jobId} jobId={jobId} />
          <p className="dialog-footer">
            <Link href={`/jobs/${jobId}`}>Open the job page</Link>
            <button type="button" onClick={close}>
              Close
            </button>
          </p>
        </>
      ) : (
        <UpdateForm stack={stack} services={services} onStarted={setJobId} onCancel={close} />
      )}
    </Dialog>
  );
}

function UpdateForm({ stack, services, onStarted, onCancel }: { stack: StackDetail; services: ServiceDetail[]; onStarted: (jobId: string) => void; onCancel: () => void }) {
  const settings = useQuery(queries.settings());
  const [backupMode, setBackupMode] = useState<BackupMode>('inherit');
  const [allowArchMismatch, setAllowArchMismatch] = useState(false);
  const mismatched = services.some((service) => service.candidate?.archMatch === 'mismatch');
  const start = useMutation({
    mutationFn: async (mode: UpdateMode) => {
      const common = { mode, backupMode, allowArchMismatch, reason: 'ui' as const };
      const body =
        services.length === 1
          ? { ...common, scope: 'service' as const, serviceId: services[0]!.id, targetTag: services[0]!.candidate!.tag, targetDigest: services[0]!.candidate!.digest, pullTags: [] }
          : {
              ...common,
              scope: 'stack' as const,
              stackId: stack.id,
              targets: services.map((service) => ({ serviceId: service.id, targetTag: service.candidate!.tag, targetDigest: service.candidate!.digest, pullTags: [], skipTagFollowups: false })),
            };
      return (await call(api.POST('/api/updates', { body }))).jobId;
    },
    onSuccess: onStarted,
  });
  const blocked = mismatched && !allowArchMismatch;
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        start.mutate('apply');
      }}
    >
      <h3>What changes</h3>
      <div data-testid="update-plan">
        {services.map((service) => (
          <section key={service.id} className="plan" aria-label={`Update of ${service.name}`}>
            <h4>{service.name}</h4>
            <dl className="facts">
              <dt>Image</dt>
              <dd>
                <code>
                  {service.image.ref}:{service.image.tag}
                </code>
              </dd>
              <dt>Now</dt>
              <dd>
                <Version tag={service.image.tag} resolvedTag={service.image.resolvedTag} digest={service.image.digest} />
              </dd>
              <dt>After</dt>
              <dd>
                <Version tag={service.candidate!.tag} resolvedTag={service.candidate!.resolvedTag} digest={service.candidate!.digest} />{' '}
                <ArchBadge archMatch={service.candidate!.archMatch} arch={service.candidate!.arch} />
              </dd>
            </dl>
          </section>
        ))}
      </div>
      <p className="muted small">
        Same-tag update: Dockrev pulls the new image of the tag, recreates the service, waits for its health check and rolls back to the
        previous image if it fails
        {services.some((service) => !service.settings.autoRollback) ? ' (auto-rollback is off for some of these services)' : ''}.
      </p>
      <h3>Backup</h3>
      <SelectField label="Backup before updating" value={backupMode} onChange={(event) => setBackupMode(event.target.value as BackupMode)} hint={<BackupExplanation settings={settings.data} mode={backupMode} />}>
        <option value="inherit">as in settings</option>
        <option value="skip">skip the backup</option>
        <option value="force">always back up</option>
      </SelectField>
      <BackupTargets services={services} />
      {mismatched ? (
        <CheckField
          label="Update although the new image does not list this host's platform"
          checked={allowArchMismatch}
          onChange={(event) => setAllowArchMismatch(event.target.checked)}
        />
      ) : null}
      {start.error ? <ErrorView error={start.error} /> : null}
      <div className="dialog-footer">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" disabled={start.isPending || blocked} onClick={() => start.mutate('dry-run')} data-testid="update-dry-run">
          Dry run
        </button>
        <button type="submit" className="primary" disabled={start.isPending || blocked} data-testid="update-apply">
          Apply update
        </button>
      </div>
    </form>
  );
}

function BackupExplanation({ settings, mode }: { settings: Schemas['SettingsView'] | undefined; mode: BackupMode }) {
  if (!settings) return <>Loading the backup settings…</>;
  const { backup } = settings;
  const limit = `targets over ${bytes(backup.skipTargetsOverBytes)} are skipped`;
  if (mode === 'skip') return <>Nothing is backed up.</>;
  if (mode === 'force') return <>The stack's volumes and bind mounts are archived to {backup.baseDir} first, whatever their size.</>;
  if (!backup.enabled) return <>Backups are off in settings: nothing is backed up.</>;
  return (
    <>
      Backups are on: the stack's volumes and bind mounts are archived to {backup.baseDir} first; {limit}
      {backup.requireSuccess ? '; a failed backup stops the update' : ''}.
    </>
  );
}

function BackupTargets({ services }: { services: ServiceDetail[] }) {
  const overrides = services.flatMap((service) => [
    ...Object.entries(service.settings.backupTargets.bindPaths).map(([path, mode]) => ({ service: service.name, target: path, mode })),
    ...Object.entries(service.settings.backupTargets.volumeNames).map(([name, mode]) => ({ service: service.name, target: `volume ${name}`, mode })),
  ]);
  if (overrides.length === 0) return <p className="muted small">No per-service backup target overrides.</p>;
  return (
    <ul className="small">
      {overrides.map((entry) => (
        <li key={`${entry.service}-${entry.target}`}>
          {entry.service}: <code>{entry.target}</code> → {entry.mode}
        </li>
      ))}
    </ul>
  );
}
