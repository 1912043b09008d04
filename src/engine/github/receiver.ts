// GitHub `package` deliveries (behaviour.md §C.14, in its order): header and integration checks,
// the signature over the raw body, then the payload. A delivery is deduplicated by its
// `X-GitHub-Delivery` id; a package published for a selected repository starts one check per
// service that runs its GHCR image, or a discovery when none does. Every delivery past the
// signature is recorded with its decision; what the API answered is the caller's to say.
import { DomainError } from '../../errors.js';
import type { Service } from '../../store/index.js';
import { auditOf, mergeAudit } from '../check/push.js';
import { ghcrRepositoryKey, type GithubDeps } from './deps.js';
import { parseFullName } from './inputs.js';

export interface DeliveryRequest {
  deliveryId?: string;
  event?: string;
  signature?: string;
  rawBody: Buffer;
}

export type IgnoreReason = 'not_package_event' | 'disabled' | 'not_published' | 'repo_not_selected';
export type FallbackReason = 'no_managed_service_match' | 'owner_only_payload';

export interface AcceptedDelivery {
  kind: 'accepted';
  attemptCount: number;
  jobIds: string[];
  matchedServiceIds: string[];
  reusedJobIds: string[];
  fallbackUsed: boolean;
  fallbackReason?: FallbackReason;
}

export type DeliveryOutcome =
  | { kind: 'ignored'; reason: IgnoreReason }
  | { kind: 'duplicate'; attemptCount: number }
  | { kind: 'invalid_json' }
  | AcceptedDelivery;

/** What the transport supplies: the signature check, and the status it answers an outcome with (recorded with the delivery). */
export interface DeliveryTransport {
  signatureValid(secret: string, rawBody: Buffer, header: string | undefined): boolean;
  responseStatus(outcome: DeliveryOutcome): number;
}

interface PackagePayload {
  action?: unknown;
  package?: { name?: unknown; repository?: { full_name?: unknown } | null } | null;
  repository?: { full_name?: unknown; owner?: { login?: unknown } | null } | null;
  organization?: { login?: unknown } | null;
  sender?: { login?: unknown } | null;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** Who the payload is about: a repository (`repository.full_name`, else the package's), or only an owner. */
function subjectOf(payload: PackagePayload): { owner?: string; repo?: string; fullName?: string } {
  const named = text(payload.repository?.full_name) ?? text(payload.package?.repository?.full_name);
  const parsed = named ? parseFullName(named) : undefined;
  if (parsed) return { owner: parsed.owner, repo: parsed.repo, fullName: `${parsed.owner}/${parsed.repo}` };
  return { owner: text(payload.organization?.login) ?? text(payload.repository?.owner?.login) ?? text(payload.sender?.login) };
}

export class DeliveryReceiver {
  constructor(private readonly deps: GithubDeps) {}

  async receive(request: DeliveryRequest, transport: DeliveryTransport): Promise<DeliveryOutcome> {
    const { store } = this.deps;
    const deliveryId = request.deliveryId?.trim();
    if (!deliveryId) throw new DomainError('invalid_input', 'missing X-GitHub-Delivery');
    if (request.event?.trim() !== 'package') return { kind: 'ignored', reason: 'not_package_event' };
    const settings = await store.githubPackages.getSettings();
    if (!settings.enabled) return { kind: 'ignored', reason: 'disabled' };
    if (!settings.webhookSecret) {
      throw new DomainError('unauthenticated', 'webhook secret is not configured', { reason: 'webhook_secret_not_configured' });
    }
    if (!transport.signatureValid(settings.webhookSecret, request.rawBody, request.signature)) {
      throw new DomainError('unauthenticated', 'invalid signature', { reason: 'invalid_signature' });
    }

    let payload: PackagePayload;
    try {
      const parsed: unknown = JSON.parse(request.rawBody.toString('utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SyntaxError('not a JSON object');
      payload = parsed as PackagePayload;
    } catch {
      const outcome: DeliveryOutcome = { kind: 'invalid_json' };
      await store.githubPackages.recordDelivery({ deliveryId, event: 'package', decision: 'rejected', reason: 'invalid_json', responseStatus: transport.responseStatus(outcome) });
      return outcome;
    }
    const action = text(payload.action);
    const subject = subjectOf(payload);
    const recorded = { deliveryId, event: 'package', ...(action ? { action } : {}), ...subject };
    if (action !== 'published') {
      const outcome: DeliveryOutcome = { kind: 'ignored', reason: 'not_published' };
      await store.githubPackages.recordDelivery({ ...recorded, decision: 'ignored', reason: 'not_published', responseStatus: transport.responseStatus(outcome) });
      return outcome;
    }

    if (!(await this.selected(subject))) {
      const outcome: DeliveryOutcome = { kind: 'ignored', reason: 'repo_not_selected' };
      const { delivery, duplicate } = await store.githubPackages.recordDelivery({
        ...recorded,
        decision: 'ignored',
        reason: 'repo_not_selected',
        responseStatus: transport.responseStatus(outcome),
      });
      return duplicate ? { kind: 'duplicate', attemptCount: delivery.attemptCount } : outcome;
    }
    const provisional: DeliveryOutcome = { kind: 'accepted', attemptCount: 1, jobIds: [], matchedServiceIds: [], reusedJobIds: [], fallbackUsed: false };
    const { delivery, duplicate } = await store.githubPackages.recordDelivery({ ...recorded, decision: 'processed', responseStatus: transport.responseStatus(provisional) });
    if (duplicate) return { kind: 'duplicate', attemptCount: delivery.attemptCount };

    const accepted = { ...(await this.work(deliveryId, subject, payload)), attemptCount: delivery.attemptCount };
    await store.githubPackages.updateDelivery(deliveryId, { decision: 'processed', responseStatus: transport.responseStatus(accepted), jobId: accepted.jobIds[0], jobIds: accepted.jobIds });
    return accepted;
  }

  /** A selected repository by full name (case-insensitive), or for an owner-only payload any selected repository of that owner. */
  private async selected(subject: { owner?: string; fullName?: string }): Promise<boolean> {
    const { githubPackages } = this.deps.store;
    if (subject.fullName) return (await githubPackages.getRepo(subject.fullName))?.selected === true;
    if (!subject.owner) return false;
    const owner = subject.owner.toLowerCase();
    return (await githubPackages.listSelectedRepos()).some((repo) => repo.owner.toLowerCase() === owner);
  }

  /** The GHCR image repositories the delivery names: the repository's, and the package's own when it differs. */
  private repositoryKeys(subject: { owner?: string; repo?: string }, payload: PackagePayload): string[] {
    if (!subject.owner || !subject.repo) return [];
    const keys = [ghcrRepositoryKey(this.deps, subject.owner, subject.repo)];
    const packageName = text(payload.package?.name);
    if (packageName) keys.push(ghcrRepositoryKey(this.deps, subject.owner, packageName));
    return [...new Set(keys)];
  }

  private async work(deliveryId: string, subject: { owner?: string; repo?: string }, payload: PackagePayload): Promise<Omit<AcceptedDelivery, 'attemptCount'>> {
    const keys = this.repositoryKeys(subject, payload);
    const matched = new Map<string, Service>();
    for (const key of keys) for (const service of await this.deps.servicesUsing(key)) matched.set(service.id, service);
    const matchedServiceIds = [...matched.keys()];
    const audit = {
      source: 'github_webhook',
      repo: keys[0] ?? `${this.deps.config.registryHosts.ghcrHost}/${(subject.owner ?? '').toLowerCase()}`,
      repos: keys,
      deliveryId,
      deliveryIds: [deliveryId],
      matchedServiceIds,
      fallbackUsed: matchedServiceIds.length === 0,
      reusedJobIds: [] as string[],
    };
    if (matchedServiceIds.length > 0) {
      const started = await this.deps.checkForPush(matchedServiceIds, { createdBy: 'github', startMessage: `github webhook check started: ${JSON.stringify(audit)}`, audit });
      const reusedJobIds = [...new Set(started.filter((entry) => entry.reused).map((entry) => entry.job.id))];
      for (const jobId of reusedJobIds) await this.noteReuse(jobId);
      return { kind: 'accepted', jobIds: [...new Set(started.map((entry) => entry.job.id))], matchedServiceIds, reusedJobIds, fallbackUsed: false };
    }
    const fallbackReason: FallbackReason = keys.length === 0 ? 'owner_only_payload' : 'no_managed_service_match';
    const fallbackAudit = { ...audit, fallbackReason };
    const { job, reused } = await this.deps.discoveryForPush({
      createdBy: 'github',
      startMessage: `github webhook started discovery fallback: ${JSON.stringify(fallbackAudit)}`,
      audit: fallbackAudit,
    });
    if (reused) await this.noteReuse(job.id);
    return { kind: 'accepted', jobIds: [job.id], matchedServiceIds, reusedJobIds: reused ? [job.id] : [], fallbackUsed: true, fallbackReason };
  }

  /** A job a delivery joined lists itself among `reusedJobIds` of its audit. */
  private async noteReuse(jobId: string): Promise<void> {
    const job = await this.deps.store.jobs.get(jobId);
    if (job) await this.deps.store.jobs.mergeSummary(jobId, mergeAudit(auditOf(job.summary), { reusedJobIds: [jobId] }));
  }
}
