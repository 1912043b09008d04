// The shape of a deploy-check item and the helpers every check uses to build one.
import { withDeadline } from '../../deadline.js';
import type { components } from '../../generated/dockrev.js';

export type DeployCheckItem = components['schemas']['DeployCheckItem'];
export type DeployCheckReport = components['schemas']['DeployCheckReport'];

type Text = Pick<DeployCheckItem, 'title' | 'summary' | 'impact' | 'evidence' | 'recommendation'>;

export function passed(id: string, group: DeployCheckItem['group'], required: boolean, text: Text): DeployCheckItem {
  return { id, group, required, status: 'pass', ...text };
}

export function warned(id: string, group: DeployCheckItem['group'], required: boolean, text: Text): DeployCheckItem {
  return { id, group, required, status: 'warn', ...text };
}

/** A failed check; a feature that is switched on and fails is required (it blocks), as behaviour.md §C.15 says. */
export function failed(id: string, group: DeployCheckItem['group'], text: Text): DeployCheckItem {
  return { id, group, required: true, status: 'fail', ...text };
}

export function notApplicable(id: string, naReason: NonNullable<DeployCheckItem['naReason']>, text: Text): DeployCheckItem {
  return { id, group: 'feature', required: false, status: 'na', naReason, ...text };
}

/** Rejects after `ms`: every probe of the report is bounded, so the report always answers. */
export function within<T>(ms: number, what: string, probe: Promise<T>): Promise<T> {
  return withDeadline(probe, ms, () => new Error(`${what} did not answer within ${ms} ms`));
}

export const list = (values: readonly string[], max = 10) =>
  values.length === 0 ? '[]' : `[${values.slice(0, max).join(', ')}${values.length > max ? `, … ${values.length - max} more` : ''}]`;
