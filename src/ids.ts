import { ulid } from 'ulid';

/** Entity id prefixes; job ids are opaque to clients but the prefix tells humans what they are. */
export type IdPrefix = 'stk' | 'svc' | 'ign' | 'job' | 'chk' | 'dsc' | 'bkp' | 'sup' | 'rwd' | 'ntf';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}
