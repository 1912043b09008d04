// Follows a job the UI started without streaming its log (check all, discovery scans): polls it
// until it is over, then refetches what it may have changed.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { isTerminal, queries } from '../api/queries';

const POLL_MS = 800;

export function useJobWatch(jobId: string | undefined, refresh: readonly (readonly string[])[]) {
  const queryClient = useQueryClient();
  const query = useQuery({
    ...queries.job(jobId ?? ''),
    enabled: jobId !== undefined,
    refetchInterval: (q) => (isTerminal(q.state.data) ? false : POLL_MS),
  });
  const over = isTerminal(query.data);
  useEffect(() => {
    if (over) for (const queryKey of refresh) void queryClient.invalidateQueries({ queryKey });
    // `refresh` is a constant per call site.
  }, [over, queryClient]);
  return { job: query.data, running: jobId !== undefined && !over, over };
}
