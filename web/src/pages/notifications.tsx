// Notification channels (all eight), the default event switches, each channel's own switches and
// message templates, test sends per channel and for all, and a way to subscribe this browser to
// Web Push. Secrets are never shown: a stored one is kept unless a new value is typed.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { queries } from '../api/queries';
import { PageHeader, Skeleton } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { CheckField } from '../components/Field';
import { SaveBar } from '../components/SaveBar';
import { useDraftForm } from '../forms';
import { bodyOf, CHANNELS, draftOf, EVENTS, validate, withSecretsCleared, type Update, type View } from '../notify/channels';
import { ChannelFieldset } from '../notify/ChannelFieldset';
import { TestAllButton } from '../notify/TestSend';

export function NotificationsPage() {
  const settings = useQuery(queries.notifications());
  return (
    <>
      <PageHeader title="Notifications">
        <Link href="/notifications/deliveries">Delivery log</Link>
      </PageHeader>
      {settings.error && !settings.data ? <ErrorView error={settings.error} onRetry={() => void settings.refetch()} /> : null}
      {settings.data ? <NotificationsForm initial={settings.data} /> : settings.isPending ? <Skeleton lines={10} label="Loading notification settings" /> : null}
    </>
  );
}

/** Every field the form shows next to its input; the SaveBar lists the server's others. */
const SHOWN_INLINE = CHANNELS.flatMap((spec) => [...spec.fields.map((field) => `${spec.key}.${field.key}`), `${spec.key}.template.title`, `${spec.key}.template.body`]);

function NotificationsForm({ initial }: { initial: View }) {
  const queryClient = useQueryClient();
  const stored = useQuery(queries.notifications()).data ?? initial;
  const save = useMutation({
    mutationFn: (body: Update) => call(api.PUT('/api/notifications', { body })),
    onSuccess: () => {
      form.setDraft(withSecretsCleared);
      return Promise.all([queryClient.invalidateQueries({ queryKey: ['notifications'] }), queryClient.invalidateQueries({ queryKey: ['deploy-check'] })]);
    },
  });
  const form = useDraftForm(() => draftOf(initial), (draft) => validate(draft, stored), (clean) => save.mutate(bodyOf(clean)), save.error);
  const { draft, setDraft, errors, onSubmit } = form;

  return (
    <form className="card form" noValidate onSubmit={onSubmit}>
      <fieldset>
        <legend>Events (the default for every channel)</legend>
        {EVENTS.map(({ key, label }) => (
          <CheckField key={key} label={label} checked={draft.events[key]} onChange={(event) => setDraft((current) => ({ ...current, events: { ...current.events, [key]: event.target.checked } }))} />
        ))}
      </fieldset>
      <div className="actions">
        <TestAllButton />
        <span className="hint">Test sends use the saved settings.</span>
      </div>
      {CHANNELS.map((spec) => (
        <ChannelFieldset
          key={spec.key}
          spec={spec}
          draft={draft.channels[spec.key]}
          stored={stored}
          defaults={draft.events}
          errors={errors}
          onChange={(next) => setDraft((current) => ({ ...current, channels: { ...current.channels, [spec.key]: next } }))}
        />
      ))}
      <SaveBar save={save} label="Save notifications" shownInline={SHOWN_INLINE} testId="save-notifications" />
    </form>
  );
}
