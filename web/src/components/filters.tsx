// Filters kept in the query string, so a filtered list survives a reload and can be shared.
import { useSearchParams } from 'wouter';
import type { ArchivedFilter } from '../api/queries';

/**
 * One query-string parameter: its value, and a setter (undefined or '' removes it). A change also
 * removes the `alsoClear` parameters (a new filter starts again at the first page).
 */
export function useSearchParam(key: string, alsoClear: readonly string[] = []): [string | null, (value: string | undefined) => void] {
  const [search, setSearch] = useSearchParams();
  const set = (value: string | undefined) =>
    setSearch((previous) => {
      const next = new URLSearchParams(previous);
      if (value) next.set(key, value);
      else next.delete(key);
      for (const other of alsoClear) next.delete(other);
      return next;
    });
  return [search.get(key), set];
}

const ARCHIVED: ArchivedFilter[] = ['exclude', 'include', 'only'];

/** `?archived=include|only`; absent (the API's default) hides archived entries. */
export function useArchivedParam(): [ArchivedFilter, (value: ArchivedFilter) => void] {
  const [raw, set] = useSearchParam('archived');
  const value = ARCHIVED.find((entry) => entry === raw) ?? 'exclude';
  return [value, (next) => set(next === 'exclude' ? undefined : next)];
}

export function FilterSelect<T extends string>({
  label,
  value,
  options,
  onChange,
  testId,
}: {
  label: string;
  value: T;
  options: { value: T; label: string }[];
  onChange: (value: T) => void;
  testId?: string;
}) {
  return (
    <label className="inline-select">
      {label}
      <select value={value} onChange={(event) => onChange(event.target.value as T)} data-testid={testId}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function ArchivedSelect({ label, value, onChange }: { label: string; value: ArchivedFilter; onChange: (value: ArchivedFilter) => void }) {
  return (
    <FilterSelect
      label={label}
      value={value}
      onChange={onChange}
      options={[
        { value: 'exclude', label: 'hidden' },
        { value: 'include', label: 'shown' },
        { value: 'only', label: 'only archived' },
      ]}
    />
  );
}
