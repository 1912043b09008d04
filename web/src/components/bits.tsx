// Small presentational pieces used across pages.
import type { ReactNode } from 'react';
import { absoluteTime, relativeTime, shortDigest, words } from '../format';
import type { JobStatus, Schemas } from '../api/queries';

export function Time({ iso }: { iso: string | undefined }) {
  if (!iso) return <span className="muted">never</span>;
  return (
    <time dateTime={iso} title={absoluteTime(iso)}>
      {relativeTime(iso)}
    </time>
  );
}

export function Digest({ digest }: { digest: string | undefined }) {
  if (!digest) return <span className="muted">unknown</span>;
  return (
    <code className="digest" title={digest}>
      {shortDigest(digest)}
    </code>
  );
}

/** A version as people read it: the resolved version tag when inference found one, else the digest. */
export function Version({ tag, resolvedTag, digest }: { tag: string; resolvedTag?: string; digest?: string }) {
  return (
    <span className="version">
      {resolvedTag ? <strong>{resolvedTag}</strong> : <span className="muted">{tag}</span>} <Digest digest={digest} />
    </span>
  );
}

type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral';

export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

const STACK_TONES: Record<Schemas['StackStatus'], Tone> = { healthy: 'ok', degraded: 'warn', unknown: 'neutral' };
export function StackStatusBadge({ status }: { status: Schemas['StackStatus'] }) {
  return <Badge tone={STACK_TONES[status]}>{status}</Badge>;
}

const JOB_TONES: Record<JobStatus, Tone> = { queued: 'neutral', running: 'info', success: 'ok', failed: 'bad', rolled_back: 'warn' };
export function JobStatusBadge({ status }: { status: JobStatus }) {
  return <Badge tone={JOB_TONES[status]}>{words(status)}</Badge>;
}

const ARCH_TONES: Record<Schemas['ArchMatch'], Tone> = { match: 'ok', mismatch: 'bad', unknown: 'neutral' };
export function ArchBadge({ archMatch, arch }: { archMatch: Schemas['ArchMatch']; arch: string[] }) {
  return (
    <span title={arch.length ? `provides ${arch.join(', ')}` : 'no platform information'}>
      <Badge tone={ARCH_TONES[archMatch]}>arch {archMatch}</Badge>
    </span>
  );
}

/** Progress of a job; `percent` null or total 0 means indeterminate. */
export function ProgressBar({ percent, label }: { percent: number | null; label: string }) {
  const known = percent !== null;
  return (
    <div
      className={`progress${known ? '' : ' progress-indeterminate'}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={known ? percent : undefined}
    >
      <div className="progress-fill" style={{ width: known ? `${percent}%` : undefined }} />
    </div>
  );
}

/** Placeholder lines of a fixed height, so content arriving does not move the page. */
export function Skeleton({ lines = 3, label = 'Loading' }: { lines?: number; label?: string }) {
  return (
    <div className="skeleton" role="status" aria-label={label}>
      {Array.from({ length: lines }, (_, index) => (
        <div key={index} className="skeleton-line" />
      ))}
    </div>
  );
}

export function PageHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <div className="page-header">
      <h1>{title}</h1>
      {children ? <div className="page-actions">{children}</div> : null}
    </div>
  );
}

/** A table's header row: one column header per name. */
export function TableHead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col">
            {column}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A table that may scroll sideways on narrow screens; focusable so keyboard users can scroll it. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
