// One channel of the notifications form: its switch, its fields (secrets masked and kept unless
// retyped), a test send, and under "events and message" its own event switches and templates.
import { CheckField, SelectField, TextField } from '../components/Field';
import { EVENTS, isStored, type ChannelDraft, type ChannelSpec, type EventKey, type Override, type View } from './channels';
import { TestChannelButton } from './TestSend';
import { WebPushSubscribe } from './WebPushSubscribe';

interface Props {
  spec: ChannelSpec;
  draft: ChannelDraft;
  stored: View;
  defaults: View['events'];
  errors: Record<string, string>;
  onChange: (next: ChannelDraft) => void;
}

const TEMPLATE_VARIABLES = '{{stack}}, {{service}}, {{currentTag}}, {{candidateTag}}, {{status}}, {{jobUrl}}';

export function ChannelFieldset({ spec, draft, stored, defaults, errors, onChange }: Props) {
  const setValue = (key: string, value: string) => onChange({ ...draft, values: { ...draft.values, [key]: value } });
  const setEvent = (key: EventKey, value: Override) => onChange({ ...draft, events: { ...draft.events, [key]: value } });
  const path = (field: string) => `${spec.key}.${field}`;
  const customised = EVENTS.some(({ key }) => draft.events[key] !== 'default') || draft.title || draft.body;
  return (
    <fieldset data-testid={`channel-${spec.key}`}>
      <legend>{spec.label}</legend>
      <div className="channel-head">
        <CheckField label={spec.toggle} checked={draft.enabled} onChange={(event) => onChange({ ...draft, enabled: event.target.checked })} />
        <TestChannelButton channel={spec.key} label={spec.label} />
      </div>
      {spec.fields.map((field) => {
        const secret = field.kind === 'secret';
        const hint = secret ? `${isStored(stored, spec.key, field.key) ? 'A value is stored; leave empty to keep it.' : 'Nothing stored yet.'}${field.hint ? ` ${field.hint}` : ''}` : field.hint;
        return (
          <TextField
            key={field.key}
            label={field.label}
            type={secret ? 'password' : 'text'}
            autoComplete="off"
            inputMode={field.kind === 'integer' ? 'numeric' : undefined}
            placeholder={field.placeholder}
            value={draft.values[field.key]}
            error={errors[path(field.key)]}
            hint={hint}
            onChange={(event) => setValue(field.key, event.target.value)}
          />
        );
      })}
      {spec.key === 'webPush' ? <WebPushSubscribe publicKey={stored.webPush.vapidPublicKey} /> : null}
      <details open={Boolean(customised) || Boolean(errors[path('template.title')] || errors[path('template.body')])}>
        <summary>Events and message of this channel</summary>
        <div className="event-overrides">
          {EVENTS.map(({ key, label }) => (
            <SelectField key={key} label={label} value={draft.events[key]} onChange={(event) => setEvent(key, event.target.value as Override)}>
              <option value="default">as the default ({defaults[key] ? 'on' : 'off'})</option>
              <option value="on">on</option>
              <option value="off">off</option>
            </SelectField>
          ))}
        </div>
        <TextField label="Title template" placeholder="{{stack}}/{{service}}: {{status}}" value={draft.title} error={errors[path('template.title')]} onChange={(event) => onChange({ ...draft, title: event.target.value })} />
        <TextField
          label="Body template"
          placeholder="{{currentTag}} -> {{candidateTag}} ({{jobUrl}})"
          value={draft.body}
          error={errors[path('template.body')]}
          hint={`Mustache over the notification: ${TEMPLATE_VARIABLES}. Empty: Dockrev's own wording.`}
          onChange={(event) => onChange({ ...draft, body: event.target.value })}
        />
      </details>
    </fieldset>
  );
}
