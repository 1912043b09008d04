// The self-upgrade state as GET /supervisor/self-upgrade shows it.
import type { components } from '../generated/supervisor.js';
import { operationsOf } from './history.js';
import type { UpgradeState } from './state.js';

type SelfUpgradeView = components['schemas']['SelfUpgradeState'];

export function selfUpgradeView(state: UpgradeState, imageRepo: string): SelfUpgradeView {
  return {
    state: state.state,
    opId: state.opId,
    // The request says which action runs, so it is shown only while one does.
    ...(state.state === 'running' && state.request ? { request: state.request } : {}),
    target: { image: imageRepo, tag: state.target.tag, digest: state.target.digest ?? null },
    previous: { tag: state.previous.tag, digest: state.previous.digest ?? null },
    startedAt: state.startedAt,
    updatedAt: state.updatedAt,
    progress: state.progress,
    logs: state.opId ? state.logs.filter((line) => line.opId === state.opId) : [],
    operations: operationsOf(state),
  };
}
