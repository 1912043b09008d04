// A service's update settings: auto-rollback and per-target backup overrides.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';
import type { Schemas, ServiceDetail } from '../api/queries';
import { ErrorView } from '../components/ErrorView';
import { CheckField, SelectField, TextField } from '../components/Field';

type Override = Schemas['BackupTargetOverride'];
type Kind = 'bindPaths' | 'volumeNames';

export function ServiceSettingsForm({ stackId, service }: { stackId: string; service: ServiceDetail }) {
  const queryClient = useQueryClient();
  const [autoRollback, setAutoRollback] = useState(service.settings.autoRollback);
  const [targets, setTargets] = useState(service.settings.backupTargets);
  const [draft, setDraft] = useState({ kind: 'volumeNames' as Kind, key: '', mode: 'force' as Override });
  const [draftError, setDraftError] = useState<string>();
  const save = useMutation({
    mutationFn: () => call(api.PUT('/api/services/{serviceId}/settings', { params: { path: { serviceId: service.id } }, body: { autoRollback, backupTargets: targets } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['stack', stackId] }),
  });

  const setMode = (kind: Kind, key: string, mode: Override | undefined) =>
    setTargets((current) => {
      const next = { ...current[kind] };
      if (mode) next[key] = mode;
      else delete next[key];
      return { ...current, [kind]: next };
    });
  const add = () => {
    const key = draft.key.trim();
    if (!key) return setDraftError('Enter a bind mount path or a volume name');
    if (draft.kind === 'bindPaths' && !key.startsWith('/')) return setDraftError('A bind mount path is absolute (starts with /)');
    if (targets[draft.kind][key]) return setDraftError('This target already has an override');
    setDraftError(undefined);
    setMode(draft.kind, key, draft.mode);
    setDraft({ ...draft, key: '' });
  };

  const rows = (['bindPaths', 'volumeNames'] as const).flatMap((kind) => Object.entries(targets[kind]).map(([key, mode]) => ({ kind, key, mode })));
  return (
    <form
      className="subform"
      aria-label={`Settings of ${service.name}`}
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate();
      }}
    >
      <CheckField label="Roll back automatically when the health check fails" checked={autoRollback} onChange={(event) => setAutoRollback(event.target.checked)} />
      <fieldset>
        <legend>Backup targets</legend>
        {rows.length === 0 ? <p className="muted small">Every target follows the backup settings.</p> : null}
        <ul className="override-list">
          {rows.map((row) => (
            <li key={`${row.kind}-${row.key}`}>
              <code>{row.kind === 'bindPaths' ? row.key : `volume ${row.key}`}</code>
              <select aria-label={`Backup of ${row.key}`} value={row.mode} onChange={(event) => setMode(row.kind, row.key, event.target.value as Override)}>
                <option value="inherit">inherit</option>
                <option value="skip">skip</option>
                <option value="force">force</option>
              </select>
              <button type="button" onClick={() => setMode(row.kind, row.key, undefined)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
        <div className="inline-form">
          <SelectField label="Target kind" value={draft.kind} onChange={(event) => setDraft({ ...draft, kind: event.target.value as Kind })}>
            <option value="volumeNames">volume</option>
            <option value="bindPaths">bind mount</option>
          </SelectField>
          <TextField label="Name or path" value={draft.key} error={draftError} onChange={(event) => setDraft({ ...draft, key: event.target.value })} />
          <SelectField label="Backup" value={draft.mode} onChange={(event) => setDraft({ ...draft, mode: event.target.value as Override })}>
            <option value="inherit">inherit</option>
            <option value="skip">skip</option>
            <option value="force">force</option>
          </SelectField>
          <button type="button" onClick={add}>
            Add override
          </button>
        </div>
      </fieldset>
      {save.error ? <ErrorView error={save.error} /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          Save service settings
        </button>
        {save.isSuccess ? <span role="status">Saved.</span> : null}
      </div>
    </form>
  );
}
