// The CNCF distribution notification envelope (docker-registry, GitLab's container registry):
// `{"events": [{id, action, target: {mediaType, digest, repository, tag, url}, request: {host}}]}`.
import { hostOfUrl, isObject, text, type ParsedDelivery, type RegistryEvent } from './event.js';

export function parseDistribution(body: unknown): ParsedDelivery {
  if (!isObject(body) || !Array.isArray(body.events)) return { ok: false, message: 'not a distribution notification envelope (events[] is missing)' };
  const events: RegistryEvent[] = [];
  for (const [index, raw] of body.events.entries()) {
    if (!isObject(raw)) return { ok: false, message: `events[${index}] is not an object` };
    const target = isObject(raw.target) ? raw.target : {};
    const request = isObject(raw.request) ? raw.request : {};
    const url = text(target.url);
    events.push({
      id: text(raw.id),
      action: text(raw.action) ?? '',
      // The host the pusher addressed; a registry behind a proxy may only know its URL.
      host: text(request.host) ?? hostOfUrl(url),
      repository: text(target.repository),
      tag: text(target.tag),
      digest: text(target.digest),
      mediaType: text(target.mediaType),
    });
  }
  return { ok: true, events };
}
