// Targets and tracked repositories (behaviour.md §C.12): resolving what a user typed into
// repositories (an owner's are listed on GitHub, a repository is taken as named), tracking them,
// and selecting the ones whose webhook Dockrev keeps.
import { DomainError } from '../../errors.js';
import type { GithubPackagesRepo, SelectedFilter, Store } from '../../store/index.js';
import { repoKey } from '../../store/index.js';
import { serviceImageRef } from '../check/checker.js';
import { githubRepositoryOf } from '../registry/hosts/index.js';
import { githubClient, githubFailure, type GithubDeps } from './deps.js';
import { callbackUrlProblem, parseFullName, parseTargetInput, type GithubTarget } from './inputs.js';
import type { WebhookJobs } from './webhook-jobs.js';

const MAX_WARNINGS = 5;

export interface ResolvedRepo {
  fullName: string;
  selected: boolean;
  visibility: 'public' | 'private' | 'unknown';
  lastActivityAt: string | null;
  deployed: boolean;
}

export interface ResolveResult {
  kind: 'owner' | 'repo';
  owner: string;
  repos: ResolvedRepo[];
  warnings: string[];
}

function requireFullName(fullName: string): { owner: string; repo: string } {
  const parsed = parseFullName(fullName);
  if (!parsed) throw new DomainError('invalid_input', 'invalid fullName');
  return parsed;
}

export class GithubRepos {
  constructor(
    private readonly deps: GithubDeps,
    private readonly queue: WebhookJobs,
  ) {}

  private get store(): Store {
    return this.deps.store;
  }

  /** `owner/repo` (lowercase) of every GitHub repository whose GHCR image a managed service runs. */
  private async deployedRepos(): Promise<Set<string>> {
    const ghcrHost = this.deps.config.registryHosts.ghcrHost;
    const deployed = new Set<string>();
    for (const service of await this.store.services.list('exclude')) {
      const ref = serviceImageRef(service);
      const repo = ref?.registry === ghcrHost ? githubRepositoryOf(ref.repository) : undefined;
      if (repo) deployed.add(repo);
    }
    return deployed;
  }

  private async pat(): Promise<string | undefined> {
    return (await this.store.githubPackages.getSettings()).pat ?? undefined;
  }

  /** Read-only: what an input would track, with the stored selection and whether a service runs it. */
  async resolve(input: string): Promise<ResolveResult> {
    const parsed = parseTargetInput(input);
    if (!parsed.ok) throw new DomainError('invalid_input', 'invalid input', { input, error: parsed.error });
    const target = parsed.value;
    const deployed = await this.deployedRepos();
    if (target.kind === 'repo') {
      const stored = await this.store.githubPackages.getRepo(`${target.owner}/${target.repo}`);
      const fullName = stored?.fullName ?? `${target.owner}/${target.repo}`;
      return {
        kind: 'repo',
        owner: target.owner,
        repos: [{ fullName, selected: stored ? stored.selected : true, visibility: 'unknown', lastActivityAt: null, deployed: deployed.has(repoKey(fullName)) }],
        warnings: [],
      };
    }
    const pat = await this.pat();
    if (!pat) throw new DomainError('invalid_input', 'pat is required before resolving owner', { reason: 'ghcr_pat_missing', owner: target.owner });
    const listed = await this.listOwner(pat, target);
    const selected = new Set((await this.store.githubPackages.listSelectedRepos()).map((repo) => repoKey(repo.fullName)));
    const warnings = new Set<string>();
    if (listed.length === 0) warnings.add(`no repositories found for ${target.owner}`);
    return {
      kind: 'owner',
      owner: target.owner,
      repos: listed.map((repo) => ({
        fullName: repo.fullName,
        selected: selected.has(repoKey(repo.fullName)),
        visibility: repo.visibility,
        lastActivityAt: repo.lastActivityAt,
        deployed: deployed.has(repoKey(repo.fullName)),
      })),
      warnings: [...warnings].slice(0, MAX_WARNINGS),
    };
  }

  private async listOwner(pat: string, target: GithubTarget) {
    try {
      return await githubClient(this.deps, pat, 'interactive').listOwnerRepositories(target.owner);
    } catch (error) {
      throw githubFailure(error, { owner: target.owner });
    }
  }

  /** Stores the target and tracks what it names (new repositories unselected). */
  async addTarget(input: string): Promise<{ kind: 'owner' | 'repo'; owner: string; reposAdded: number }> {
    const pat = await this.pat();
    if (!pat) throw new DomainError('invalid_input', 'pat is required');
    const parsed = parseTargetInput(input);
    if (!parsed.ok) throw new DomainError('invalid_input', 'invalid target input', { input, error: parsed.error });
    const target = parsed.value;
    let repos: { owner: string; repo: string }[];
    if (target.kind === 'repo') {
      try {
        const found = await githubClient(this.deps, pat, 'interactive').getRepository(target.owner, target.repo);
        repos = [{ owner: found.owner, repo: found.name }];
      } catch (error) {
        throw githubFailure(error, { owner: target.owner, repo: target.repo });
      }
    } else {
      repos = (await this.listOwner(pat, target)).map((repo) => ({ owner: repo.owner, repo: repo.name }));
    }
    await this.store.githubPackages.upsertTarget({ input, kind: target.kind, owner: target.owner, warnings: [] });
    const reposAdded = await this.store.githubPackages.trackRepos(repos);
    return { kind: target.kind, owner: target.owner, reposAdded };
  }

  /** Selecting a repository (while the webhook can be registered) queues its register job. */
  async setSelected(fullName: string, selected: boolean, createdBy: string): Promise<{ jobId?: string }> {
    const name = requireFullName(fullName);
    const repo = await this.store.githubPackages.upsertRepo(name.owner, name.repo, selected);
    if (!selected) return {};
    const settings = await this.store.githubPackages.getSettings();
    if (!settings.enabled || callbackUrlProblem(settings.callbackUrl)) return {};
    const { job } = await this.queue.register(repo, { createdBy, reason: 'ui' });
    return { jobId: job.id };
  }

  async remove(fullName: string, createdBy: string): Promise<{ jobId: string }> {
    requireFullName(fullName);
    const repo: GithubPackagesRepo | undefined = await this.store.githubPackages.getRepo(fullName.trim());
    if (!repo) throw new DomainError('unknown', 'repo is not tracked');
    const { job } = await this.queue.unregister(repo, createdBy);
    return { jobId: job.id };
  }

  bulkSetSelected(filter: { q?: string; selectedFilter?: SelectedFilter | '' }, selected: boolean): Promise<number> {
    const selectedFilter = filter.selectedFilter === '' ? undefined : filter.selectedFilter;
    return this.store.githubPackages.setSelectedWhere({ q: filter.q?.trim() || undefined, selectedFilter }, selected);
  }
}
