// A store seeded with stacks and services in every state update validation tells apart, shared by
// the validation test files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { openStore, type ServiceCandidate, type Store } from '../../../store/index.js';
import { validateUpdateRequest, type UpdateRequestInput, type UpdateTargetInput, type ValidationOverrides } from '../validate.js';

export const SELF = 'ghcr.io/ivanli-cn/dockrev';
export const digest = (fill: string) => `sha256:${fill.repeat(64)}`;

export interface SeedService {
  name: string;
  ref: string;
  tag: string;
  resolvedTag?: string;
  candidate?: Partial<ServiceCandidate> & { digest: string };
  archived?: boolean;
  ignored?: boolean;
}

// demo: web and legacy are actionable (legacy is a semver downgrade), api's candidate does not fit
// the host, db has no candidate, worker is archived, cron ignored, dockrev is Dockrev itself.
// other/site has a candidate of unknown architecture, parked is an archived stack, quiet has nothing
// to update, and frozen's only candidate is a downgrade.
const FIXTURE: Record<string, { archived?: boolean; services: SeedService[] }> = {
  demo: {
    services: [
      { name: 'web', ref: 'ghcr.io/acme/web', tag: 'latest', resolvedTag: '1.2.0', candidate: { resolvedTag: '1.3.0', digest: digest('1') } },
      { name: 'api', ref: 'ghcr.io/acme/api', tag: '5.3', candidate: { tag: '5.3', digest: digest('2'), archMatch: 'mismatch' } },
      { name: 'db', ref: 'postgres', tag: '16' },
      { name: 'worker', ref: 'ghcr.io/acme/worker', tag: 'latest', candidate: { digest: digest('3') }, archived: true },
      { name: 'cron', ref: 'ghcr.io/acme/cron', tag: 'latest', candidate: { digest: digest('4') }, ignored: true },
      { name: 'dockrev', ref: SELF, tag: 'latest', candidate: { digest: digest('5') } },
      {
        name: 'legacy',
        ref: 'ghcr.io/acme/legacy',
        tag: 'stable',
        resolvedTag: 'v2.0.0',
        candidate: { tag: 'stable', resolvedTag: 'v1.9.0', digest: digest('6') },
      },
    ],
  },
  other: { services: [{ name: 'site', ref: 'ghcr.io/acme/site', tag: 'latest', candidate: { digest: digest('7'), archMatch: 'unknown' } }] },
  parked: { archived: true, services: [{ name: 'app', ref: 'ghcr.io/acme/app', tag: 'latest', candidate: { digest: digest('8') } }] },
  quiet: { services: [{ name: 'idle', ref: 'nginx', tag: '1.27' }] },
  frozen: {
    services: [
      { name: 'old', ref: 'ghcr.io/acme/old', tag: 'latest', resolvedTag: '3.0.0', candidate: { resolvedTag: '2.9.0', digest: digest('9') } },
    ],
  },
};

export let dir: string;
export let store: Store;
/** `stackName` → stack id, `stackName/serviceName` → service id. */
export const ids: Record<string, string> = {};
export const seeded = new Map<string, SeedService>();

async function seed(): Promise<void> {
  for (const [stackName, { archived, services }] of Object.entries(FIXTURE)) {
    const stack = await store.stacks.create({
      name: stackName,
      compose: { type: 'path', composeFiles: [`/srv/${stackName}/docker-compose.yml`] },
      services: services.map(({ name, ref, tag }) => ({ name, image: { ref, tag } })),
    });
    ids[stackName] = stack.id;
    if (archived) await store.stacks.setArchived(stack.id, true);
    for (const spec of services) {
      const id = stack.services.find((service) => service.name === spec.name)!.id;
      ids[`${stackName}/${spec.name}`] = id;
      seeded.set(id, spec);
      await store.services.updateState(id, {
        ...(spec.resolvedTag ? { resolvedTag: spec.resolvedTag } : {}),
        ...(spec.candidate ? { candidate: { tag: spec.tag, archMatch: 'match', arch: ['linux/amd64'], ...spec.candidate } } : {}),
        ...(spec.ignored ? { ignore: { matched: true, ruleId: 'ign_test', reason: `matched ignore rule for tag ${spec.tag}` } } : {}),
      });
      if (spec.archived) await store.services.setArchived(id, true);
    }
  }
}

/** A target that matches the stored service's tag and candidate digest. */
export function target(key: string, overrides: UpdateTargetInput = {}): UpdateTargetInput {
  const id = ids[key];
  const spec = seeded.get(id)!;
  return { serviceId: id, targetTag: spec.tag, targetDigest: spec.candidate?.digest ?? digest('0'), pullTags: [], ...overrides };
}

export const validate = (body: UpdateRequestInput, overrides?: ValidationOverrides) =>
  validateUpdateRequest(body, { store, selfImageRepo: SELF }, overrides);

/** Registers the fixture's set-up and tear-down in the calling test file. */
export function useUpdateFixture(): void {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dockrev-update-validate-'));
    store = await openStore({ sqlitePath: join(dir, 'dockrev.sqlite3') });
    await seed();
  });

  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
}
