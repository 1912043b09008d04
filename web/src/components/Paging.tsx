// What paged lists share: page controls, a search box that waits for typing to pause, the
// page number kept in the query string, and a badge saying whether a live stream is connected.
import { useEffect, useId, useState } from 'react';
import { useSearchParam } from './filters';

/** A filter in the query string; changing it goes back to the first page. */
export const useFilterParam = (key: string) => useSearchParam(key, ['page']);

/** `?page=N` (1 when absent or not a number); setting 1 removes it. */
export function usePageParam(): [number, (page: number) => void] {
  const [raw, set] = useSearchParam('page');
  const page = Math.max(1, Math.floor(Number(raw)) || 1);
  return [page, (next) => set(next > 1 ? String(next) : undefined)];
}

export function Pager({ page, perPage, total, onPage, label }: { page: number; perPage: number; total: number; onPage: (page: number) => void; label: string }) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (total <= perPage && page === 1) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" onClick={() => onPage(page - 1)} disabled={page <= 1}>
        Previous
      </button>
      <span className="small" aria-live="polite">
        Page {page} of {pages} · {total} in all
      </span>
      <button type="button" onClick={() => onPage(page + 1)} disabled={page >= pages}>
        Next
      </button>
    </nav>
  );
}

const TYPING_PAUSE_MS = 300;

/** A search input bound to a query-string value, sent once typing pauses. */
export function SearchBox({ label, value, onChange, placeholder, testId }: { label: string; value: string; onChange: (value: string | undefined) => void; placeholder?: string; testId?: string }) {
  const id = useId();
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => onChange(text.trim() || undefined), TYPING_PAUSE_MS);
    return () => clearTimeout(timer);
    // onChange is a new function each render; the text is what matters.
  }, [text]);
  return (
    <span className="inline-select">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="search" value={text} placeholder={placeholder} onChange={(event) => setText(event.target.value)} data-testid={testId} />
    </span>
  );
}

export function LiveBadge({ connected }: { connected: boolean }) {
  return (
    <span className={`badge ${connected ? 'badge-ok' : 'badge-neutral'}`} role="status" data-testid="live-status">
      {connected ? 'live' : 'connecting…'}
    </span>
  );
}
