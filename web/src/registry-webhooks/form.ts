// The registry webhook settings as a form draft, its checks before sending (keyed like the
// server's `details.field`: `sources.dockerhub.token`, `hostAliases[0].from`, `quay.audit.cron`)
// and the request body: empty secrets keep the stored ones, empty plain fields clear theirs.
import type { Schemas } from '../api/queries';
import { isHttpUrl, type Errors } from '../forms';
import { nextRun } from '../schedule';

export type View = Schemas['RegistryWebhookSettings'];
export type Source = Schemas['RegistryWebhookSource'];
export type Saved = Schemas['RegistryWebhookSettingsSaved'];

export const SOURCES: { key: Source; label: string; setup: string }[] = [
  { key: 'distribution', label: 'Docker distribution / GitLab', setup: 'notifications.endpoints[] in the registry config: this URL, with the header Authorization: Bearer <token>.' },
  { key: 'harbor', label: 'Harbor', setup: 'A webhook policy for "Artifact pushed": this URL as the endpoint, "Bearer <token>" as the auth header.' },
  { key: 'dockerhub', label: 'Docker Hub', setup: 'Repository → Webhooks: this URL (it carries the token, which Docker Hub cannot send in a header).' },
  { key: 'quay', label: 'Quay', setup: 'A repository notification on "Push to repository" with this webhook URL, or let Dockrev manage them below.' },
];

const MIN_TOKEN_LENGTH = 16;

export interface Draft {
  sources: Record<Source, { enabled: boolean; token: string; rotate: boolean }>;
  aliases: { from: string; to: string }[];
  quayApiBaseUrl: string;
  quayOauthToken: string;
  quayRegistryHost: string;
  auditEnabled: boolean;
  auditCron: string;
}

export function draftOf(view: View): Draft {
  const sources = Object.fromEntries(SOURCES.map(({ key }) => [key, { enabled: view.sources[key].enabled, token: '', rotate: false }])) as Draft['sources'];
  return {
    sources,
    aliases: view.hostAliases.map((alias) => ({ ...alias })),
    quayApiBaseUrl: view.quay.apiBaseUrl ?? '',
    quayOauthToken: '',
    quayRegistryHost: view.quay.registryHost ?? '',
    auditEnabled: view.quay.audit.enabled,
    auditCron: view.quay.audit.cron,
  };
}

/** After a save: typed secrets are stored, rotations done. */
export function afterSave(draft: Draft): Draft {
  const sources = Object.fromEntries(SOURCES.map(({ key }) => [key, { ...draft.sources[key], token: '', rotate: false }])) as Draft['sources'];
  return { ...draft, sources, quayOauthToken: '' };
}

export function validate(draft: Draft): Errors {
  const errors: Errors = {};
  for (const { key } of SOURCES) {
    const token = draft.sources[key].token.trim();
    if (token && token.length < MIN_TOKEN_LENGTH) errors[`sources.${key}.token`] = `At least ${MIN_TOKEN_LENGTH} characters (or leave empty to keep or generate one)`;
  }
  draft.aliases.forEach((alias, index) => {
    const from = alias.from.trim();
    const to = alias.to.trim();
    if (!from && !to) return;
    if (!from) errors[`hostAliases[${index}].from`] = 'Enter the host the registry names itself with';
    if (!to) errors[`hostAliases[${index}].to`] = 'Enter the host your services use';
    if (from && from.toLowerCase() === to.toLowerCase()) errors[`hostAliases[${index}].to`] = 'Differs from the host it stands for';
  });
  const api = draft.quayApiBaseUrl.trim();
  if (api && !isHttpUrl(api)) errors['quay.apiBaseUrl'] = 'Enter an absolute http:// or https:// URL';
  if (draft.auditEnabled && !nextRun(draft.auditCron)) errors['quay.audit.cron'] = 'Not a valid cron expression (5 fields, or 6 with seconds)';
  return errors;
}

export function bodyOf(draft: Draft): Schemas['RegistryWebhookSettingsUpdate'] {
  const sources = Object.fromEntries(
    SOURCES.map(({ key }) => {
      const source = draft.sources[key];
      return [key, { enabled: source.enabled, token: source.token.trim() || undefined, rotateToken: source.rotate }];
    }),
  );
  return {
    sources,
    hostAliases: draft.aliases.map((alias) => ({ from: alias.from.trim(), to: alias.to.trim() })).filter((alias) => alias.from || alias.to),
    quay: {
      apiBaseUrl: draft.quayApiBaseUrl.trim() || null,
      oauthToken: draft.quayOauthToken.trim() || undefined,
      registryHost: draft.quayRegistryHost.trim() || null,
      audit: { enabled: draft.auditEnabled, cron: draft.auditCron.trim() },
    },
  };
}
