// The tokens a save generated or rotated, with their complete callback URLs: the server shows
// them this once, so they stay on screen until dismissed.
import { CopyValue } from '../components/CopyValue';
import { SOURCES, type Saved } from './form';

export function Revealed({ revealed, onDismiss }: { revealed: NonNullable<Saved['revealed']>; onDismiss: () => void }) {
  const shown = SOURCES.filter(({ key }) => revealed[key]);
  if (shown.length === 0) return null;
  return (
    <section className="alert alert-warn" aria-labelledby="revealed-title" data-testid="revealed">
      <h2 id="revealed-title" className="alert-title">
        New tokens: copy them now, they are not shown again
      </h2>
      {shown.map(({ key, label }) => {
        const entry = revealed[key]!;
        return (
          <div key={key} className="revealed-source" data-source={key}>
            <h3>{label}</h3>
            <dl className="facts">
              <dt>Token</dt>
              <dd>
                <CopyValue value={entry.token} label={`${label} token`} testId={`revealed-token-${key}`} />
              </dd>
              <dt>Callback URL</dt>
              <dd>
                {entry.callbackUrl ? (
                  <CopyValue value={entry.callbackUrl} label={`${label} callback URL`} testId={`revealed-url-${key}`} />
                ) : (
                  'not known until the public base URL is set in the general settings'
                )}
              </dd>
            </dl>
          </div>
        );
      })}
      <button type="button" onClick={onDismiss}>
        I have copied them
      </button>
    </section>
  );
}
