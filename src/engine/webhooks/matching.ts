// From what a registry announced to what services are configured on: the host through the
// configured aliases (a registry may call itself differently from the services' references),
// then the same reference normalisation as checks (Docker Hub aliases, `library/`, lowercase
// hosts), so an event's repository key compares equal to `serviceImageRef(service).key`.
import type { IgnoredRegistryEvent } from '../../store/index.js';
import { isDigest, normalizeDigest, normalizeRegistryHost, parseImageRef } from '../registry/reference.js';
import type { RegistryEvent } from './payloads/index.js';

/** A push of a tag that services may use. */
export interface PushTarget {
  /** The registry host as the services' references name it. */
  registry: string;
  /** `registry.example.com/acme/web`, `docker.io/library/nginx`. */
  key: string;
  tag: string;
  /** What the registry says the tag now points at: a hint the check verifies. */
  digest?: string;
  eventId?: string;
}

export type ClassifiedEvent = { target: PushTarget } | { ignored: IgnoredRegistryEvent };

/** Manifests and indexes (Docker and OCI); blobs and config objects are not pushes of a tag. */
function isManifestMediaType(mediaType: string): boolean {
  const lowered = mediaType.toLowerCase();
  return lowered.includes('manifest') || lowered.includes('image.index');
}

export class HostAliases {
  private readonly aliases: Map<string, string>;

  constructor(aliases: readonly { from: string; to: string }[]) {
    this.aliases = new Map(aliases.map(({ from, to }) => [normalizeRegistryHost(from), normalizeRegistryHost(to)]));
  }

  /** The host the services use for a host a registry reported. */
  resolve(reported: string): string {
    const host = normalizeRegistryHost(reported);
    return this.aliases.get(host) ?? host;
  }
}

export function classifyEvent(event: RegistryEvent, aliases: HostAliases): ClassifiedEvent {
  const about = { eventId: event.id, action: event.action || undefined, repository: event.repository, tag: event.tag };
  const ignore = (reason: IgnoredRegistryEvent['reason']): ClassifiedEvent => ({ ignored: { ...about, reason } });
  if (event.action.toLowerCase() !== 'push') return ignore('not_a_push');
  if (!event.tag) return ignore('no_tag');
  if (event.mediaType && !isManifestMediaType(event.mediaType)) return ignore('not_a_manifest');
  if (!event.host) return ignore('no_registry_host');
  if (!event.repository) return ignore('invalid_reference');
  let key: string;
  let registry: string;
  try {
    const ref = parseImageRef(`${aliases.resolve(event.host)}/${event.repository}:${event.tag}`);
    ({ key, registry } = ref);
  } catch {
    return ignore('invalid_reference');
  }
  const digest = event.digest && isDigest(normalizeDigest(event.digest)) ? normalizeDigest(event.digest) : undefined;
  return { target: { registry, key, tag: event.tag, digest, eventId: event.id } };
}
