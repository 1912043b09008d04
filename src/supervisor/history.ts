// The operations history: log lines grouped by operation, newest first (behaviour.md §C.16).
import { MAX_OPERATION_GROUPS, type LogLine, type UpgradeState } from './state.js';

export type OperationState = 'running' | 'succeeded' | 'failed' | 'rolled_back' | 'unknown';

export interface Operation {
  opId: string;
  state: OperationState;
  startedAt: string;
  updatedAt: string;
  logs: LogLine[];
}

export const REQUESTED_MESSAGE = 'self-upgrade requested';

/** Lines written without an opId are grouped at each "self-upgrade requested" line. */
function legacyId(ts: string): string {
  return `legacy-${ts.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
}

/** Groups in order of first appearance (oldest first). */
function group(logs: readonly LogLine[]): { opId: string; logs: LogLine[] }[] {
  const groups = new Map<string, LogLine[]>();
  let legacy: string | undefined;
  for (const line of logs) {
    let id = line.opId;
    if (!id) {
      if (legacy === undefined || line.msg === REQUESTED_MESSAGE) legacy = legacyId(line.ts);
      id = legacy;
    }
    const lines = groups.get(id);
    if (lines) lines.push(line);
    else groups.set(id, [line]);
  }
  return [...groups].map(([opId, lines]) => ({ opId, logs: lines }));
}

/** The last marker decides: a rollback, an error, or a success line; else unknown. */
export function inferState(logs: readonly LogLine[]): OperationState {
  for (let index = logs.length - 1; index >= 0; index -= 1) {
    const line = logs[index]!;
    if (line.msg === 'rolled back') return 'rolled_back';
    if (line.level === 'ERROR') return 'failed';
    if (line.msg === 'dry-run done' || line.msg === 'succeeded') return 'succeeded';
  }
  return 'unknown';
}

/** The newest groups first, at most MAX_OPERATION_GROUPS; the current one carries the live state. */
export function operationsOf(state: UpgradeState): Operation[] {
  return group(state.logs)
    .slice(-MAX_OPERATION_GROUPS)
    .reverse()
    .map(({ opId, logs }) => ({
      opId,
      state: opId === state.opId && state.state !== 'idle' ? state.state : inferState(logs),
      startedAt: logs[0]!.ts,
      updatedAt: logs[logs.length - 1]!.ts,
      logs,
    }));
}

/** Keeps the lines of the MAX_OPERATION_GROUPS most recent operations. */
export function trimLogs(logs: readonly LogLine[]): LogLine[] {
  const groups = group(logs);
  if (groups.length <= MAX_OPERATION_GROUPS) return [...logs];
  const kept = new Set(groups.slice(-MAX_OPERATION_GROUPS).flatMap((entry) => entry.logs));
  return logs.filter((line) => kept.has(line));
}
