// How a failed request looks: the envelope's message, never a blank page. A 401 from forward
// auth gets an explanation of what to change, since the fix is in the proxy, not here.
import { ApiError, NetworkError, type AuthRequiredDetails } from '../api/errors';

export function ErrorView({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (error instanceof ApiError && error.isAuthRequired) return <AuthHelp details={error.details as Partial<AuthRequiredDetails>} message={error.message} />;
  const title = error instanceof NetworkError ? 'The Dockrev API is unreachable' : 'The request failed';
  return (
    <div className="alert alert-bad" role="alert">
      <p className="alert-title">{title}</p>
      <p data-testid="error-message">{error instanceof Error ? error.message : String(error)}</p>
      {error instanceof ApiError && error.code !== 'http_error' ? (
        <p className="muted small">
          HTTP {error.status} · <code>{error.code}</code>
        </p>
      ) : null}
      <FieldErrorList error={error} />
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** The 400's per-field messages, for forms that could not place them next to a field. */
export function FieldErrorList({ error, except = [] }: { error: unknown; except?: string[] }) {
  if (!(error instanceof ApiError)) return null;
  const entries = Object.entries(error.fieldErrors()).filter(([field]) => !except.includes(field));
  if (entries.length === 0) return null;
  return (
    <ul className="field-errors">
      {entries.map(([field, message]) => (
        <li key={field}>
          <code>{field}</code>: {message}
        </li>
      ))}
    </ul>
  );
}

const REASONS: Record<AuthRequiredDetails['reason'], string> = {
  identity_missing: 'No identity reached Dockrev: the request did not carry the forward-auth headers.',
  authz_no_match: 'Your identity reached Dockrev but is not on its allowlist.',
  authz_config_missing: 'Dockrev has no allowlist configured and anonymous access is switched off.',
};

function AuthHelp({ details, message }: { details: Partial<AuthRequiredDetails>; message: string }) {
  const userHeader = details.forwardHeaderName ?? 'X-Forwarded-User';
  const groupHeader = details.groupHeaderName ?? 'Remote-Groups';
  return (
    <div className="alert alert-warn" role="alert" data-testid="auth-required">
      <p className="alert-title">Sign-in required: {message}</p>
      {details.reason ? <p>{REASONS[details.reason]}</p> : null}
      <p>
        Dockrev does not log people in itself. Open it through your reverse proxy with forward authentication (Authelia,
        authentik, oauth2-proxy, …), and make the proxy pass the signed-in user in <code>{userHeader}</code> and the groups in{' '}
        <code>{groupHeader}</code>.
      </p>
      <dl className="facts">
        {details.allowedUserMasked ? (
          <>
            <dt>Allowed user</dt>
            <dd>
              <code>{details.allowedUserMasked}</code> (<code>DOCKREV_AUTH_ALLOWED_USER</code>)
            </dd>
          </>
        ) : null}
        {details.allowedGroupMasked ? (
          <>
            <dt>Allowed group</dt>
            <dd>
              <code>{details.allowedGroupMasked}</code> (<code>DOCKREV_AUTH_ALLOWED_GROUP</code>)
            </dd>
          </>
        ) : null}
        <dt>You arrived as</dt>
        <dd>
          {details.currentUser ? <code>{details.currentUser}</code> : 'no user'}
          {details.currentGroups?.length ? <> in groups {details.currentGroups.join(', ')}</> : null}
        </dd>
      </dl>
      <p className="muted small">
        If the proxy does send the headers, check that its address is in <code>DOCKREV_AUTH_TRUSTED_PROXIES</code> (when set) and
        that the user or group matches the allowlist. Reload this page once it is fixed.
      </p>
    </div>
  );
}
