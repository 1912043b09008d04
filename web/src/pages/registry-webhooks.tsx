// Registry webhooks: push notices from Docker distribution (and GitLab), Harbor, Docker Hub and
// Quay start checks of exactly the services using the pushed tag. Per source the switch, the
// token and the callback URL to paste; host aliases; Quay notifications managed by Dockrev.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { queries } from '../api/queries';
import { PageHeader, Skeleton } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { TextField } from '../components/Field';
import { SaveBar } from '../components/SaveBar';
import { useDraftForm } from '../forms';
import { afterSave, bodyOf, draftOf, SOURCES, validate, type Draft, type Saved, type View } from '../registry-webhooks/form';
import { QuayFields, QuayJobs } from '../registry-webhooks/QuaySection';
import { Revealed } from '../registry-webhooks/Revealed';
import { SourceFieldset } from '../registry-webhooks/SourceFieldset';

export function RegistryWebhooksPage() {
  const settings = useQuery(queries.registryWebhookSettings());
  return (
    <>
      <PageHeader title="Registry webhooks">
        <Link href="/registry-webhooks/deliveries">Delivery log</Link>
      </PageHeader>
      <p className="muted">A registry that says "this tag now points here" saves a scheduled check: Dockrev verifies the notice by checking the services that use that tag.</p>
      {settings.error && !settings.data ? <ErrorView error={settings.error} onRetry={() => void settings.refetch()} /> : null}
      {settings.isPending ? <Skeleton lines={8} label="Loading registry webhook settings" /> : null}
      {settings.data ? (
        <>
          <RegistryWebhooksForm initial={settings.data} />
          <QuayJobs />
        </>
      ) : null}
    </>
  );
}

const SHOWN_INLINE_FIXED = ['quay.apiBaseUrl', 'quay.oauthToken', 'quay.registryHost', 'quay.audit.cron', ...SOURCES.map(({ key }) => `sources.${key}.token`)];

function RegistryWebhooksForm({ initial }: { initial: View }) {
  const queryClient = useQueryClient();
  const stored = useQuery(queries.registryWebhookSettings()).data ?? initial;
  const [revealed, setRevealed] = useState<Saved['revealed']>();
  const save = useMutation({
    mutationFn: (draft: Draft) => call(api.PUT('/api/registry-webhooks/settings', { body: bodyOf(draft) })),
    onSuccess: (saved) => {
      if (saved.revealed && Object.keys(saved.revealed).length > 0) setRevealed(saved.revealed);
      form.setDraft(afterSave);
      return queryClient.invalidateQueries({ queryKey: ['registry-webhooks', 'settings'] });
    },
  });
  const form = useDraftForm(() => draftOf(initial), validate, (clean) => save.mutate(clean), save.error);
  const { draft, set, setDraft, errors, onSubmit } = form;
  const shownInline = [...SHOWN_INLINE_FIXED, ...draft.aliases.flatMap((_, index) => [`hostAliases[${index}]`, `hostAliases[${index}].from`, `hostAliases[${index}].to`])];

  return (
    <>
      {revealed ? <Revealed revealed={revealed} onDismiss={() => setRevealed(undefined)} /> : null}
      {!stored.publicBaseUrl ? (
        <p className="alert alert-warn" data-testid="no-public-base-url">
          Callback URLs are built from the public base URL, which is not set: <Link href="/settings">set it in the general settings</Link>.
        </p>
      ) : null}
      <form className="card form" noValidate onSubmit={onSubmit}>
        {SOURCES.map((source) => (
          <SourceFieldset
            key={source.key}
            source={source}
            stored={stored.sources[source.key]}
            draft={draft.sources[source.key]}
            error={errors[`sources.${source.key}.token`]}
            onChange={(next) => setDraft((current) => ({ ...current, sources: { ...current.sources, [source.key]: next } }))}
          />
        ))}
        <HostAliases draft={draft} errors={errors} setDraft={setDraft} />
        <QuayFields draft={draft} stored={stored} errors={errors} set={set} />
        <SaveBar save={save} label="Save registry webhooks" shownInline={shownInline} testId="save-registry-webhooks" />
      </form>
    </>
  );
}

function HostAliases({ draft, errors, setDraft }: { draft: Draft; errors: Record<string, string>; setDraft: (update: (current: Draft) => Draft) => void }) {
  const setAlias = (index: number, field: 'from' | 'to', value: string) =>
    setDraft((current) => ({ ...current, aliases: current.aliases.map((alias, at) => (at === index ? { ...alias, [field]: value } : alias)) }));
  return (
    <fieldset data-testid="host-aliases">
      <legend>Host aliases</legend>
      <p className="hint">When a registry names itself differently in its notices (an internal address) than your image references do.</p>
      {draft.aliases.map((alias, index) => (
        <div key={index} className="inline-form">
          <TextField label="Registry calls itself" placeholder="registry.internal:5000" value={alias.from} error={errors[`hostAliases[${index}].from`] ?? errors[`hostAliases[${index}]`]} onChange={(event) => setAlias(index, 'from', event.target.value)} />
          <TextField label="Services use" placeholder="registry.example.com" value={alias.to} error={errors[`hostAliases[${index}].to`]} onChange={(event) => setAlias(index, 'to', event.target.value)} />
          <button type="button" onClick={() => setDraft((current) => ({ ...current, aliases: current.aliases.filter((_, at) => at !== index) }))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => setDraft((current) => ({ ...current, aliases: [...current.aliases, { from: '', to: '' }] }))}>
        Add an alias
      </button>
    </fieldset>
  );
}
