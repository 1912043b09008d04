// Quay's `repo_push` repository notification: `repository` (`namespace/name`), `docker_url`
// (`<host>/<namespace>/<name>`) and `updated_tags` (a list, or an object keyed by tag in older
// Quay versions); one event per tag. Other Quay events sent to this URL (builds, vulnerability
// reports) carry no `updated_tags` and are ignored.
import { hostOfReference, isObject, text, type ParsedDelivery } from './event.js';

export function parseQuay(body: unknown): ParsedDelivery {
  if (!isObject(body)) return { ok: false, message: 'not a Quay notification payload' };
  const repository = text(body.repository) ?? (text(body.namespace) && text(body.name) ? `${text(body.namespace)}/${text(body.name)}` : undefined);
  if (!repository) return { ok: false, message: 'not a Quay notification payload (repository is missing)' };
  const host = hostOfReference(text(body.docker_url));
  const updated = body.updated_tags;
  if (updated === undefined) return { ok: true, events: [{ action: text(body.build_id) ? 'build' : 'unknown', host, repository }] };
  const tags = Array.isArray(updated) ? updated : isObject(updated) ? Object.keys(updated) : undefined;
  if (!tags) return { ok: false, message: 'updated_tags is neither a list nor an object' };
  return { ok: true, events: tags.map((tag) => ({ action: 'push', host, repository, tag: text(tag) })) };
}
