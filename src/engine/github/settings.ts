// GitHub packages settings (behaviour.md §C.12): the PAT and the webhook secret are stored, shown
// only as a mask, and kept when a client sends the mask (or nothing) back; the webhook secret is
// generated on the first save and never leaves the server except to GitHub.
import { randomBytes } from 'node:crypto';
import { DomainError } from '../../errors.js';
import type { GithubPackagesTarget, Store } from '../../store/index.js';
import { parseFullName, parseTargetInput } from './inputs.js';

export const SECRET_MASK = '******';

export interface GithubSettingsView {
  enabled: boolean;
  callbackUrl: string;
  targets: GithubPackagesTarget[];
  reposTotal: number;
  reposSelectedTotal: number;
  patMasked: typeof SECRET_MASK | null;
  secretMasked: typeof SECRET_MASK | null;
}

export interface GithubSettingsInput {
  enabled: boolean;
  callbackUrl: string;
  targets?: { input: string }[];
  repos?: { fullName: string; selected: boolean }[];
  pat?: string | null;
}

/** A value that means "keep what is stored": absent, null, blank, or a mask sent back (`******`, `•••…`). */
function keepsStored(value: string | null | undefined): boolean {
  if (value === undefined || value === null) return true;
  const text = value.trim();
  return text === '' || /^\*+$/.test(text) || /^•+$/.test(text);
}

/** 32 random bytes, standard base64 without padding (as the original). */
export function generateWebhookSecret(): string {
  return randomBytes(32).toString('base64').replace(/=+$/, '');
}

export async function githubSettingsView(store: Store): Promise<GithubSettingsView> {
  const [settings, targets, totals] = await Promise.all([
    store.githubPackages.getSettings(),
    store.githubPackages.listTargets(),
    store.githubPackages.listRepos({ perPage: 1 }),
  ]);
  return {
    enabled: settings.enabled,
    callbackUrl: settings.callbackUrl,
    targets,
    reposTotal: totals.total,
    reposSelectedTotal: totals.selectedTotal,
    patMasked: settings.pat ? SECRET_MASK : null,
    secretMasked: settings.webhookSecret ? SECRET_MASK : null,
  };
}

function parsedTargets(inputs: { input: string }[]): GithubPackagesTarget[] {
  return inputs.map(({ input }) => {
    const parsed = parseTargetInput(input);
    if (!parsed.ok) throw new DomainError('invalid_input', 'invalid target input', { input, error: parsed.error });
    return { input, kind: parsed.value.kind, owner: parsed.value.owner, warnings: [] };
  });
}

/** `owner/repo` entries, duplicates (case-insensitive) merged with their `selected` flags OR-ed. */
function parsedRepos(entries: { fullName: string; selected: boolean }[]): { owner: string; repo: string; selected: boolean }[] {
  const merged = new Map<string, { owner: string; repo: string; selected: boolean }>();
  for (const { fullName, selected } of entries) {
    const name = parseFullName(fullName);
    if (!name) throw new DomainError('invalid_input', 'invalid repos', { error: `invalid fullName: ${fullName}` });
    const key = `${name.owner}/${name.repo}`.toLowerCase();
    const seen = merged.get(key);
    merged.set(key, { ...(seen ?? name), selected: selected || (seen?.selected ?? false) });
  }
  return [...merged.values()];
}

/** Validates everything first, so a refused request changes nothing. */
export async function putGithubSettings(store: Store, body: GithubSettingsInput): Promise<void> {
  const callbackUrl = body.callbackUrl.trim();
  if (callbackUrl !== '' && !URL.canParse(callbackUrl)) throw new DomainError('invalid_input', 'invalid callbackUrl');
  const stored = await store.githubPackages.getSettings();
  const pat = keepsStored(body.pat) ? stored.pat : body.pat!.trim();
  if (body.enabled && !pat) throw new DomainError('invalid_input', 'pat is required when enabled=true');
  const targets = body.targets === undefined ? undefined : parsedTargets(body.targets);
  const repos = body.repos === undefined ? undefined : parsedRepos(body.repos);

  await store.githubPackages.putSettings({
    enabled: body.enabled,
    callbackUrl,
    pat,
    webhookSecret: stored.webhookSecret ?? generateWebhookSecret(),
  });
  if (targets) await store.githubPackages.replaceTargets(targets);
  for (const repo of repos ?? []) await store.githubPackages.upsertRepo(repo.owner, repo.repo, repo.selected);
}
