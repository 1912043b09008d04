// One registry webhook source: its switch, where the token goes, the callback URL to paste into
// the registry (copyable), and a token of one's own or a rotation.
import { Badge } from '../components/bits';
import { CopyValue } from '../components/CopyValue';
import { CheckField, TextField } from '../components/Field';
import { SOURCES, type Draft, type View } from './form';

interface Props {
  source: (typeof SOURCES)[number];
  stored: View['sources'][keyof View['sources']];
  draft: Draft['sources'][keyof Draft['sources']];
  error?: string;
  onChange: (next: Draft['sources'][keyof Draft['sources']]) => void;
}

export function SourceFieldset({ source, stored, draft, error, onChange }: Props) {
  const header = stored.tokenIn === 'authorization_header';
  return (
    <fieldset data-testid={`source-${source.key}`}>
      <legend>{source.label}</legend>
      <div className="channel-head">
        <CheckField label={`Accept push notices from ${source.label}`} checked={draft.enabled} onChange={(event) => onChange({ ...draft, enabled: event.target.checked })} />
        {stored.enabled ? <Badge tone="ok">enabled</Badge> : <Badge tone="neutral">off</Badge>}
      </div>
      <dl className="facts">
        <dt>Callback URL</dt>
        <dd>
          {stored.callbackUrl ? (
            <CopyValue value={stored.callbackUrl} label={`${source.label} callback URL`} testId={`callback-${source.key}`} />
          ) : stored.enabled ? (
            <span className="muted">Set the public base URL in the general settings to get it.</span>
          ) : (
            <span className="muted">Shown once the source is enabled.</span>
          )}
          {stored.callbackUrl && !header ? <div className="hint">The token in it is masked here; the full URL is shown once, when a token is generated or rotated.</div> : null}
        </dd>
        <dt>Token</dt>
        <dd>
          {stored.tokenMasked ? 'stored' : 'none yet (generated when the source is enabled)'}
          {header ? <span className="muted"> · sent as Authorization: Bearer &lt;token&gt;</span> : <span className="muted"> · sent in the URL</span>}
        </dd>
        <dt>Set up</dt>
        <dd className="muted">{source.setup}</dd>
      </dl>
      <TextField
        label={`${source.label}: a token of your own`}
        type="password"
        autoComplete="off"
        value={draft.token}
        error={error}
        hint="Optional, at least 16 characters; leave empty to keep the stored one (or to have one generated)."
        onChange={(event) => onChange({ ...draft, token: event.target.value })}
      />
      <CheckField label="Replace the token with a new generated one when saving" checked={draft.rotate} disabled={!stored.tokenMasked} onChange={(event) => onChange({ ...draft, rotate: event.target.checked })} />
    </fieldset>
  );
}
