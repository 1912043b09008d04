// Notification channels and which events they get. Secrets are never shown: a stored one is
// kept unless a new value is typed. (Test send arrives with its operation.)
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { queries, type Schemas } from '../api/queries';
import { PageHeader, Skeleton } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { CheckField, TextField } from '../components/Field';
import { SaveBar } from '../components/SaveBar';
import { isHttpUrl, useDraftForm, type Errors } from '../forms';

type View = Schemas['NotificationSettings'];

export function NotificationsPage() {
  const settings = useQuery(queries.notifications());
  return (
    <>
      <PageHeader title="Notifications" />
      {settings.error && !settings.data ? <ErrorView error={settings.error} onRetry={() => void settings.refetch()} /> : null}
      {settings.data ? <NotificationsForm initial={settings.data} /> : settings.isPending ? <Skeleton lines={10} label="Loading notification settings" /> : null}
    </>
  );
}

interface Draft {
  emailEnabled: boolean;
  smtpUrl: string;
  webhookEnabled: boolean;
  webhookUrl: string;
  telegramEnabled: boolean;
  botToken: string;
  chatId: string;
  webPushEnabled: boolean;
  vapidPublicKey: string;
  vapidPrivateKey: string;
  vapidSubject: string;
  events: View['events'];
}

function draftOf(view: View): Draft {
  return {
    emailEnabled: view.email.enabled,
    smtpUrl: '',
    webhookEnabled: view.webhook.enabled,
    webhookUrl: '',
    telegramEnabled: view.telegram.enabled,
    botToken: '',
    chatId: view.telegram.chatId ?? '',
    webPushEnabled: view.webPush.enabled,
    vapidPublicKey: view.webPush.vapidPublicKey ?? '',
    vapidPrivateKey: '',
    vapidSubject: view.webPush.vapidSubject ?? '',
    events: view.events,
  };
}

function validate(draft: Draft, stored: View): Errors {
  const errors: Errors = {};
  const smtp = draft.smtpUrl.trim();
  if (smtp && !/^smtps?:\/\//.test(smtp)) errors['email.smtpUrl'] = 'Starts with smtp:// or smtps://';
  else if (draft.emailEnabled && !smtp && !stored.email.smtpUrl) errors['email.smtpUrl'] = 'Enter the SMTP URL to enable email';
  const url = draft.webhookUrl.trim();
  if (url && !isHttpUrl(url)) errors['webhook.url'] = 'Enter an absolute http:// or https:// URL';
  else if (draft.webhookEnabled && !url && !stored.webhook.url) errors['webhook.url'] = 'Enter the URL to enable the webhook';
  if (draft.telegramEnabled && !draft.botToken.trim() && !stored.telegram.botTokenConfigured) errors['telegram.botToken'] = 'Enter the bot token to enable Telegram';
  if (draft.telegramEnabled && !draft.chatId.trim()) errors['telegram.chatId'] = 'Enter the chat id to enable Telegram';
  const subject = draft.vapidSubject.trim();
  if (subject && !/^(mailto:|https:\/\/)/.test(subject)) errors['webPush.vapidSubject'] = 'Starts with mailto: or https://';
  return errors;
}

/** Typed secrets replace the stored ones; empty ones are left out, which keeps them. */
const secret = (value: string) => (value.trim() ? value.trim() : undefined);

function bodyOf(draft: Draft): Schemas['NotificationSettingsUpdate'] {
  return {
    email: { enabled: draft.emailEnabled, smtpUrl: secret(draft.smtpUrl) },
    webhook: { enabled: draft.webhookEnabled, url: secret(draft.webhookUrl) },
    telegram: { enabled: draft.telegramEnabled, botToken: secret(draft.botToken), chatId: draft.chatId.trim() },
    webPush: {
      enabled: draft.webPushEnabled,
      vapidPublicKey: draft.vapidPublicKey.trim() || null,
      vapidPrivateKey: secret(draft.vapidPrivateKey),
      vapidSubject: draft.vapidSubject.trim() || null,
    },
    events: draft.events,
  };
}

const storedHint = (stored: boolean) => (stored ? 'A value is stored; leave empty to keep it.' : 'Nothing stored yet.');
const SHOWN_INLINE = ['email.smtpUrl', 'webhook.url', 'telegram.botToken', 'telegram.chatId', 'webPush.vapidSubject'];

function NotificationsForm({ initial }: { initial: View }) {
  const queryClient = useQueryClient();
  const stored = useQuery(queries.notifications()).data ?? initial;
  const save = useMutation({
    mutationFn: (body: Schemas['NotificationSettingsUpdate']) => call(api.PUT('/api/notifications', { body })),
    onSuccess: () => {
      // Stored now: the secret fields go back to "leave empty to keep".
      form.setDraft((current) => ({ ...current, smtpUrl: '', webhookUrl: '', botToken: '', vapidPrivateKey: '' }));
      return queryClient.invalidateQueries({ queryKey: ['notifications'] });
    },
  });
  const form = useDraftForm(() => draftOf(initial), (draft) => validate(draft, stored), (clean) => save.mutate(bodyOf(clean)), save.error);
  const { draft, set, setDraft, errors, onSubmit } = form;
  const setEvent = (key: keyof View['events'], value: boolean) => setDraft((current) => ({ ...current, events: { ...current.events, [key]: value } }));

  return (
    <form className="card form" noValidate onSubmit={onSubmit}>
      <fieldset>
        <legend>Events</legend>
        <CheckField label="Update finished (success, failure, rollback)" checked={draft.events.update} onChange={(event) => setEvent('update', event.target.checked)} />
        <CheckField label="New version found by a scheduled or webhook check" checked={draft.events.newVersion} onChange={(event) => setEvent('newVersion', event.target.checked)} />
        <CheckField label="GitHub package webhook anomaly" checked={draft.events.ghcrWebhookAnomaly} onChange={(event) => setEvent('ghcrWebhookAnomaly', event.target.checked)} />
      </fieldset>
      <fieldset>
        <legend>Email</legend>
        <CheckField label="Send email" checked={draft.emailEnabled} onChange={(event) => set('emailEnabled', event.target.checked)} />
        <TextField label="SMTP URL" type="password" autoComplete="off" placeholder="smtps://user:password@mail.example.com:465" value={draft.smtpUrl} error={errors['email.smtpUrl']} hint={storedHint(Boolean(stored.email.smtpUrl))} onChange={(event) => set('smtpUrl', event.target.value)} />
      </fieldset>
      <fieldset>
        <legend>Webhook</legend>
        <CheckField label="Post to a webhook" checked={draft.webhookEnabled} onChange={(event) => set('webhookEnabled', event.target.checked)} />
        <TextField label="Webhook URL" type="password" autoComplete="off" placeholder="https://hooks.example.com/dockrev" value={draft.webhookUrl} error={errors['webhook.url']} hint={storedHint(Boolean(stored.webhook.url))} onChange={(event) => set('webhookUrl', event.target.value)} />
      </fieldset>
      <fieldset>
        <legend>Telegram</legend>
        <CheckField label="Send Telegram messages" checked={draft.telegramEnabled} onChange={(event) => set('telegramEnabled', event.target.checked)} />
        <TextField label="Bot token" type="password" autoComplete="off" value={draft.botToken} error={errors['telegram.botToken']} hint={storedHint(stored.telegram.botTokenConfigured)} onChange={(event) => set('botToken', event.target.value)} />
        <TextField label="Chat id" value={draft.chatId} error={errors['telegram.chatId']} hint="Empty clears it." onChange={(event) => set('chatId', event.target.value)} />
      </fieldset>
      <fieldset>
        <legend>Web Push</legend>
        <CheckField label="Send browser push notifications" checked={draft.webPushEnabled} onChange={(event) => set('webPushEnabled', event.target.checked)} />
        <TextField label="VAPID public key" value={draft.vapidPublicKey} onChange={(event) => set('vapidPublicKey', event.target.value)} />
        <TextField label="VAPID private key" type="password" autoComplete="off" value={draft.vapidPrivateKey} hint={storedHint(Boolean(stored.webPush.vapidPrivateKey))} onChange={(event) => set('vapidPrivateKey', event.target.value)} />
        <TextField label="VAPID subject" placeholder="mailto:ops@example.com" value={draft.vapidSubject} error={errors['webPush.vapidSubject']} hint="mailto:dockrev@localhost when empty." onChange={(event) => set('vapidSubject', event.target.value)} />
      </fieldset>
      <SaveBar save={save} label="Save notifications" shownInline={SHOWN_INLINE} />
    </form>
  );
}
