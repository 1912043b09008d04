// The self-upgrade state document (behaviour.md §D.12) and its file: one JSON document, replaced
// atomically (temporary file, fsync, rename), so a supervisor killed at any instant leaves either
// the old or the new document, never half of one.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export type UpgradeStateName = 'idle' | 'running' | 'succeeded' | 'failed' | 'rolled_back';
export type UpgradeStep = 'precheck' | 'pull' | 'apply' | 'wait_healthy' | 'postcheck' | 'done' | 'rollback';
export type UpgradeMode = 'apply' | 'dry-run';
export type LogLevel = 'INFO' | 'WARN' | 'ERROR';

export interface LogLine {
  ts: string;
  level: LogLevel;
  msg: string;
  /** Absent on lines written by versions that did not record it. */
  opId?: string;
}

export interface UpgradeState {
  schemaVersion: 1;
  opId: string;
  state: UpgradeStateName;
  /** The start request; kept only while the operation it started runs. */
  request?: { mode: UpgradeMode; rollbackOnFailure: boolean };
  target: { tag: string; digest?: string };
  /** What the container ran before the operation: the rollback target. `tag` may be a full reference. */
  previous: { tag: string; digest?: string };
  startedAt: string | null;
  updatedAt: string | null;
  progress: { step: UpgradeStep; message: string };
  logs: LogLine[];
}

export const UNKNOWN_PREVIOUS = 'unknown';
/** Operations whose log lines are kept (and listed). */
export const MAX_OPERATION_GROUPS = 30;

export function idleState(): UpgradeState {
  return {
    schemaVersion: 1,
    opId: '',
    state: 'idle',
    target: { tag: 'latest' },
    previous: { tag: UNKNOWN_PREVIOUS },
    startedAt: null,
    updatedAt: null,
    progress: { step: 'done', message: 'idle' },
    logs: [],
  };
}

const STATES = new Set<string>(['idle', 'running', 'succeeded', 'failed', 'rolled_back']);
const STEPS = new Set<string>(['precheck', 'pull', 'apply', 'wait_healthy', 'postcheck', 'done', 'rollback']);
const LEVELS = new Set<string>(['INFO', 'WARN', 'ERROR']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const optionalString = (value: unknown): value is string | undefined | null => value === undefined || value === null || typeof value === 'string';

function tagAndDigest(value: unknown): { tag: string; digest?: string } | undefined {
  if (!isObject(value) || typeof value.tag !== 'string' || !optionalString(value.digest)) return undefined;
  return { tag: value.tag, ...(value.digest ? { digest: value.digest } : {}) };
}

function logLine(value: unknown): LogLine | undefined {
  if (!isObject(value) || typeof value.ts !== 'string' || typeof value.msg !== 'string' || !LEVELS.has(value.level as string)) return undefined;
  if (!optionalString(value.opId)) return undefined;
  return { ts: value.ts, level: value.level as LogLevel, msg: value.msg, ...(value.opId ? { opId: value.opId } : {}) };
}

/** The document in `text`, or why it is not one. Unknown fields are dropped. */
export function parseState(text: string): { ok: true; state: UpgradeState } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON (${(error as Error).message})` };
  }
  if (!isObject(raw)) return { ok: false, reason: 'not a JSON object' };
  if (raw.schemaVersion !== 1) return { ok: false, reason: `unknown schemaVersion ${JSON.stringify(raw.schemaVersion)}` };
  const target = tagAndDigest(raw.target);
  const previous = tagAndDigest(raw.previous);
  const progress = raw.progress;
  const logs = Array.isArray(raw.logs) ? raw.logs.map(logLine) : undefined;
  if (
    typeof raw.opId !== 'string' ||
    !STATES.has(raw.state as string) ||
    !target ||
    !previous ||
    !optionalString(raw.startedAt) ||
    !optionalString(raw.updatedAt) ||
    !isObject(progress) ||
    !STEPS.has(progress.step as string) ||
    typeof progress.message !== 'string' ||
    !logs ||
    logs.some((line) => line === undefined)
  ) {
    return { ok: false, reason: 'fields missing or of the wrong type' };
  }
  const request = raw.request;
  const state: UpgradeState = {
    schemaVersion: 1,
    opId: raw.opId,
    state: raw.state as UpgradeStateName,
    target,
    previous,
    startedAt: (raw.startedAt as string | null | undefined) ?? null,
    updatedAt: (raw.updatedAt as string | null | undefined) ?? null,
    progress: { step: progress.step as UpgradeStep, message: progress.message },
    logs: logs as LogLine[],
  };
  if (isObject(request) && (request.mode === 'apply' || request.mode === 'dry-run') && typeof request.rollbackOnFailure === 'boolean') {
    state.request = { mode: request.mode, rollbackOnFailure: request.rollbackOnFailure };
  }
  return { ok: true, state };
}

export type LoadResult = { state: UpgradeState; warning?: string };

/** Reads and writes the document at one path. Writes are serialised: the last one wins on disk. */
export class StateFile {
  private queue: Promise<void> = Promise.resolve();
  private writes = 0;

  constructor(readonly path: string) {}

  /** A missing or unreadable file gives the idle state and a warning; a corrupt one is kept aside. */
  async load(): Promise<LoadResult> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      return { state: idleState(), warning: missing ? `no state file at ${this.path}; starting idle` : `state file ${this.path} unreadable (${(error as Error).message}); starting idle` };
    }
    const parsed = parseState(text);
    if (parsed.ok) return { state: parsed.state };
    const aside = `${this.path}.corrupt-${Date.now()}`;
    const kept = await rename(this.path, aside).then(() => `; kept as ${aside}`, () => '');
    return { state: idleState(), warning: `state file ${this.path} is corrupt (${parsed.reason}); starting idle${kept}` };
  }

  save(state: UpgradeState): Promise<void> {
    const text = `${JSON.stringify(state, null, 2)}\n`;
    const write = this.queue.then(() => this.replace(text));
    this.queue = write.catch(() => undefined);
    return write;
  }

  private async replace(text: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.tmp-${process.pid}-${(this.writes += 1)}`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
  }
}
