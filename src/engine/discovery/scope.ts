// Which discovered services Dockrev manages: the `dockrev.enable` label (opt-out by default,
// opt-in with DOCKREV_DISCOVERY_REQUIRE_LABEL) and never Dockrev's own image.
import type { NewService } from '../../store/index.js';
import type { ComposeContainer } from '../docker/index.js';
import { isSelfImage } from './image-ref.js';

export const ENABLE_LABEL = 'dockrev.enable';

export interface DiscoveryScope {
  /** Only services labelled `dockrev.enable=true` are managed (DOCKREV_DISCOVERY_REQUIRE_LABEL). */
  requireLabel: boolean;
  /** Dockrev's own image repository (DOCKREV_IMAGE_REPO): its services are never managed. */
  selfImageRepo: string;
}

export type ExclusionRule = 'label_false' | 'label_required' | 'dockrev_image';

export interface ExcludedService {
  service: string;
  rule: ExclusionRule;
}

/** `true`/`false` (any case, trimmed); anything else is not a setting. */
function labelValue(raw: string | undefined): boolean | 'invalid' | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  return 'invalid';
}

function invalidWarning(service: string, raw: string): string {
  return `service ${service}: label ${ENABLE_LABEL}=${JSON.stringify(raw)} ignored (expected true or false)`;
}

/** Whether a service is managed, given its label value; undefined when it is. */
function ruleFor(setting: boolean | undefined, scope: DiscoveryScope): ExclusionRule | undefined {
  if (setting === false) return 'label_false';
  if (scope.requireLabel && setting !== true) return 'label_required';
  return undefined;
}

/**
 * Whether a project can be left out before its Compose files are read: every running container
 * excluded by its label (opt-out), or none labelled `true` (opt-in). Containers carry the labels
 * Compose gave them, so this is what the files said when the project was last brought up.
 */
export function projectExcludedByLabels(containers: readonly ComposeContainer[], scope: DiscoveryScope): { excluded: ExcludedService[]; warnings: string[] } | undefined {
  const warnings: string[] = [];
  const byService = new Map<string, boolean | undefined>();
  for (const container of containers) {
    if (byService.has(container.service)) continue;
    const raw = container.labels[ENABLE_LABEL];
    const setting = labelValue(raw);
    if (setting === 'invalid') warnings.push(invalidWarning(container.service, raw!));
    byService.set(container.service, setting === 'invalid' ? undefined : setting);
  }
  const excluded = [...byService].map(([service, setting]) => ({ service, rule: ruleFor(setting, scope) }));
  if (excluded.some(({ rule }) => rule === undefined)) return undefined;
  return { excluded: excluded.map(({ service, rule }) => ({ service, rule: rule! })).sort((a, b) => a.service.localeCompare(b.service)), warnings };
}

/**
 * The services of a project Dockrev manages. A service's label is read from its running
 * container, else from its Compose definition (a service that is not running); an invalid value
 * counts as absent and is reported.
 */
export function scopeServices(
  services: readonly NewService[],
  labels: { running: ReadonlyMap<string, Readonly<Record<string, string>>>; declared: ReadonlyMap<string, Readonly<Record<string, string>>> },
  scope: DiscoveryScope,
): { included: NewService[]; excluded: ExcludedService[]; warnings: string[] } {
  const included: NewService[] = [];
  const excluded: ExcludedService[] = [];
  const warnings: string[] = [];
  for (const service of services) {
    if (isSelfImage(service.image.ref, scope.selfImageRepo)) {
      excluded.push({ service: service.name, rule: 'dockrev_image' });
      continue;
    }
    const raw = (labels.running.get(service.name) ?? labels.declared.get(service.name))?.[ENABLE_LABEL];
    let setting = labelValue(raw);
    if (setting === 'invalid') {
      warnings.push(invalidWarning(service.name, raw!));
      setting = undefined;
    }
    const rule = ruleFor(setting, scope);
    if (rule) excluded.push({ service: service.name, rule });
    else included.push(service);
  }
  return { included, excluded, warnings };
}
