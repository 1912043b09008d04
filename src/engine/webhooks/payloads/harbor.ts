// Harbor's project webhooks, in its two payload formats: `Default` (`type: PUSH_ARTIFACT`,
// `event_data`) and `CloudEvents` (`type: harbor.artifact.pushed`, `data`, an event `id`). Each
// resource is one event; the host is the one in its `resource_url`.
import { hostOfReference, isObject, text, type ParsedDelivery, type RegistryEvent } from './event.js';

const PUSH_TYPES = new Set(['PUSH_ARTIFACT', 'harbor.artifact.pushed']);

export function parseHarbor(body: unknown): ParsedDelivery {
  if (!isObject(body)) return { ok: false, message: 'not a Harbor webhook payload' };
  const type = text(body.type);
  const cloudEvent = text(body.specversion) !== undefined;
  const data = cloudEvent ? body.data : body.event_data;
  if (!type || !isObject(data)) return { ok: false, message: `not a Harbor webhook payload (${type ? (cloudEvent ? 'data' : 'event_data') : 'type'} is missing)` };
  const resources = Array.isArray(data.resources) ? data.resources : [];
  const repository = isObject(data.repository) ? text(data.repository.repo_full_name) : undefined;
  const id = cloudEvent ? text(body.id) : undefined;
  const action = PUSH_TYPES.has(type) ? 'push' : type;
  const events: RegistryEvent[] = [];
  for (const [index, raw] of resources.entries()) {
    if (!isObject(raw)) return { ok: false, message: `resources[${index}] is not an object` };
    const tag = text(raw.tag);
    const resourceUrl = text(raw.resource_url);
    events.push({
      id: id && resources.length > 1 ? `${id}/${index}` : id,
      action,
      host: hostOfReference(resourceUrl),
      repository,
      // Harbor names an artifact pushed without a tag by its digest.
      tag: tag && !tag.includes(':') ? tag : undefined,
      digest: text(raw.digest),
    });
  }
  if (events.length === 0) events.push({ id, action, repository });
  return { ok: true, events };
}
