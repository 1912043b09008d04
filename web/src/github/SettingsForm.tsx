// The GitHub packages integration switch, the callback URL GitHub delivers to, the PAT Dockrev
// manages hooks with (masked; kept unless retyped) and what it says about the webhook secret.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import type { Schemas } from '../api/queries';
import { CheckField, TextField } from '../components/Field';
import { SaveBar } from '../components/SaveBar';
import { isHttpUrl, useDraftForm, type Errors } from '../forms';

type View = Schemas['GithubPackagesSettings'];

interface Draft {
  enabled: boolean;
  callbackUrl: string;
  pat: string;
}

/** Where this Dockrev answers GitHub, as the browser reaches it (the usual value behind one proxy). */
export const suggestedCallbackUrl = () => `${window.location.origin}/api/webhooks/github-packages`;

function validate(draft: Draft, stored: View): Errors {
  const errors: Errors = {};
  const url = draft.callbackUrl.trim();
  if (url && !isHttpUrl(url)) errors.callbackUrl = 'Enter an absolute http:// or https:// URL';
  if (draft.enabled && !url) errors.callbackUrl = 'Enter the URL GitHub delivers to, to enable the integration';
  if (draft.enabled && !draft.pat.trim() && !stored.patMasked) errors.pat = 'Enter a personal access token to enable the integration';
  return errors;
}

export function GithubSettingsForm({ stored }: { stored: View }) {
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (draft: Draft) => call(api.PUT('/api/github-packages/settings', { body: { enabled: draft.enabled, callbackUrl: draft.callbackUrl.trim(), pat: draft.pat.trim() || undefined } })),
    onSuccess: () => {
      form.set('pat', '');
      return Promise.all([queryClient.invalidateQueries({ queryKey: ['github'] }), queryClient.invalidateQueries({ queryKey: ['deploy-check'] })]);
    },
  });
  const form = useDraftForm<Draft>(() => ({ enabled: stored.enabled, callbackUrl: stored.callbackUrl || suggestedCallbackUrl(), pat: '' }), (draft) => validate(draft, stored), (clean) => save.mutate(clean), save.error);
  const { draft, set, errors, onSubmit } = form;
  return (
    <form className="card form" noValidate onSubmit={onSubmit} aria-labelledby="github-settings-title">
      <h2 id="github-settings-title">Settings</h2>
      <CheckField label="Manage package webhooks on the selected GitHub repositories" checked={draft.enabled} onChange={(event) => set('enabled', event.target.checked)} />
      <TextField
        label="Callback URL"
        type="url"
        value={draft.callbackUrl}
        error={errors.callbackUrl}
        hint="Where GitHub delivers package events: this Dockrev's /api/webhooks/github-packages, as GitHub reaches it."
        onChange={(event) => set('callbackUrl', event.target.value)}
      />
      <TextField
        label="Personal access token"
        type="password"
        autoComplete="off"
        value={draft.pat}
        error={errors.pat}
        hint={`${stored.patMasked ? 'A token is stored; leave empty to keep it.' : 'Nothing stored yet.'} Needs the repo and admin:repo_hook scopes.`}
        onChange={(event) => set('pat', event.target.value)}
      />
      <p className="hint" data-testid="github-secret-hint">
        Webhook secret:{' '}
        {stored.secretMasked
          ? 'stored. Dockrev gives it to GitHub itself when it registers a hook and checks every delivery against it; it is never shown.'
          : 'generated on the first save; Dockrev gives it to GitHub when it registers the hooks.'}
      </p>
      <SaveBar save={save} label="Save GitHub settings" shownInline={['callbackUrl', 'pat']} testId="save-github" />
    </form>
  );
}
