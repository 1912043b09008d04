// Deploy welcome: what Dockrev does and what to set up, shown once after deployment (until
// "don't show again") and always at /welcome.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { queries } from '../api/queries';
import { PageHeader } from '../components/bits';
import { Dialog } from '../components/Dialog';
import { ErrorView } from '../components/ErrorView';
import { CheckField } from '../components/Field';

function WelcomeText() {
  return (
    <>
      <p>Dockrev keeps the Compose projects on this host up to date, safely.</p>
      <ol>
        <li>
          <strong>Discovery</strong> finds the running Compose projects by itself; each becomes a <Link href="/">stack</Link>.
        </li>
        <li>
          <strong>Checks</strong> ask the registries whether a tag now points at a newer image (“Check all”, or on a <Link href="/settings">schedule</Link>).
        </li>
        <li>
          <strong>Updates</strong> back up the stack's data, pull, recreate, wait for the health check and roll back when it fails. Follow each one on the{' '}
          <Link href="/jobs">jobs</Link> page.
        </li>
      </ol>
      <p>
        Before you rely on it: put Dockrev behind your forward-auth proxy and set an allowlist (<code>DOCKREV_AUTH_ALLOWED_USER</code> or{' '}
        <code>DOCKREV_AUTH_ALLOWED_GROUP</code>), choose a backup folder in <Link href="/settings">settings</Link>, and set up{' '}
        <Link href="/notifications">notifications</Link>.
      </p>
    </>
  );
}

function useNeverAutoOpen() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (neverAutoOpen: boolean) => call(api.PUT('/api/deploy-welcome', { body: { neverAutoOpen } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['deploy-welcome'] }),
  });
}

export function WelcomePage() {
  const welcome = useQuery(queries.deployWelcome());
  const save = useNeverAutoOpen();
  return (
    <>
      <PageHeader title="Welcome to Dockrev" />
      <div className="card">
        <WelcomeText />
        {welcome.data ? (
          <CheckField
            label="Do not open this welcome automatically"
            checked={welcome.data.neverAutoOpen}
            disabled={save.isPending}
            onChange={(event) => save.mutate(event.target.checked)}
          />
        ) : null}
        {save.error ? <ErrorView error={save.error} /> : null}
      </div>
    </>
  );
}

/** Opens by itself on first visits; "Don't show again" stores that on the server, "Close" for this tab. */
export function WelcomeDialog() {
  const welcome = useQuery(queries.deployWelcome());
  const save = useNeverAutoOpen();
  const [closed, setClosed] = useState(() => sessionStorage.getItem('dockrev.welcome.closed') === '1');
  const close = () => {
    sessionStorage.setItem('dockrev.welcome.closed', '1');
    setClosed(true);
  };
  const open = welcome.data !== undefined && !welcome.data.neverAutoOpen && !closed;
  return (
    <Dialog title="Welcome to Dockrev" open={open} onClose={close}>
      {/* A link inside leads to another page: close the dialog on the way. */}
      <div onClick={(event) => (event.target as HTMLElement).closest('a') && close()}>
        <WelcomeText />
      </div>
      {save.error ? <ErrorView error={save.error} /> : null}
      <div className="dialog-footer">
        <button type="button" onClick={close}>
          Close
        </button>
        <button type="button" className="primary" disabled={save.isPending} onClick={() => save.mutate(true, { onSuccess: close })} data-testid="welcome-never">
          Don't show again
        </button>
      </div>
    </Dialog>
  );
}
