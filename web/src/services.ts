import type { ServiceDetail } from './api/queries';

/** The services a stack's `updates` count counts: a candidate, not ignored, the right arch, not archived. */
export function offersUpdate(service: ServiceDetail): boolean {
  return Boolean(service.candidate && !service.ignore && service.candidate.archMatch === 'match' && !service.archived);
}
