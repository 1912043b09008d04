// Docker Hub's repository webhook: `push_data.tag` and `repository.repo_name`. The registry is
// always Docker Hub; there is no event id and no digest.
import { isObject, text, type ParsedDelivery } from './event.js';

export const DOCKER_HUB_HOST = 'docker.io';

export function parseDockerHub(body: unknown): ParsedDelivery {
  if (!isObject(body) || !isObject(body.repository) || !isObject(body.push_data)) {
    return { ok: false, message: 'not a Docker Hub webhook payload (push_data and repository are required)' };
  }
  const { repository, push_data: push } = body;
  const name = text(repository.repo_name) ?? (text(repository.namespace) && text(repository.name) ? `${text(repository.namespace)}/${text(repository.name)}` : undefined);
  if (!name) return { ok: false, message: 'not a Docker Hub webhook payload (repository.repo_name is missing)' };
  return { ok: true, events: [{ action: 'push', host: DOCKER_HUB_HOST, repository: name, tag: text(push.tag) }] };
}
