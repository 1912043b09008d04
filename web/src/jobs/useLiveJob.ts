// A job as it happens: the snapshot from GET /api/jobs/{id}, then its log and progress over SSE
// until the job is over. Lines are keyed by their log id, so the snapshot, the stream and any
// refetch merge without duplicates.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useReducer, useRef, useState } from 'react';
import { isTerminal, queries, type JobDetail, type JobLog, type JobProgress } from '../api/queries';
import { JobStream } from './job-stream';

interface LogState {
  lines: JobLog[];
  ids: Set<number>;
}

function mergeLines(state: LogState, incoming: readonly JobLog[]): LogState {
  const fresh = incoming.filter((line) => line.level !== 'event' && !state.ids.has(line.id));
  if (fresh.length === 0) return state;
  const ids = new Set(state.ids);
  for (const line of fresh) ids.add(line.id);
  const lines = [...state.lines, ...fresh].sort((a, b) => a.id - b.id);
  return { lines, ids };
}

/** Polling while streaming is only a safety net; right after the last step it finds the verdict. */
const POLL_MS = 5000;
const SETTLE_POLL_MS = 600;

/** What happened to a job's queries when it ended: everything it may have changed is refetched. */
const CHANGED_BY_JOBS = [['stacks'], ['stack'], ['jobs'], ['discovery-projects'], ['ignores']];

export interface LiveJob {
  job: JobDetail | undefined;
  error: unknown;
  lines: JobLog[];
  progress: JobProgress | undefined;
  reconnecting: boolean;
}

/** One job per mount: render the component using it with `key={jobId}`. */
export function useLiveJob(jobId: string): LiveJob {
  const queryClient = useQueryClient();
  const [settling, setSettling] = useState(false);
  const query = useQuery({
    ...queries.job(jobId),
    refetchInterval: (q) => (isTerminal(q.state.data) ? false : settling ? SETTLE_POLL_MS : POLL_MS),
  });
  const job = query.data;
  const [log, addLines] = useReducer(mergeLines, { lines: [], ids: new Set<number>() });
  const [streamed, setStreamed] = useState<JobProgress | undefined>();
  const [connected, setConnected] = useState(true);
  const over = isTerminal(job);

  useEffect(() => {
    if (job) addLines(job.logs);
  }, [job]);

  // Open once the snapshot is here and the job still runs; close when it is over.
  const snapshotLastId = job?.logsLastId;
  useEffect(() => {
    if (snapshotLastId === undefined || over) return;
    const opened = new JobStream(jobId, snapshotLastId, {
      onLog: (line) => addLines([line]),
      onProgress: (progress) => {
        setStreamed(progress);
        if (progress.phase === 'done') setSettling(true);
      },
      onConnection: setConnected,
      // Read the final row at once rather than at the next poll.
      onFinished: () => void query.refetch(),
    });
    return () => opened.close();
    // The snapshot's id only matters for the first connection; later ones resume from the stream's own.
  }, [jobId, snapshotLastId === undefined, over]);

  // Only a job seen running can have changed anything since the page loaded.
  const sawRunning = useRef(false);
  useEffect(() => {
    if (job && !over) sawRunning.current = true;
    if (over && sawRunning.current) {
      sawRunning.current = false;
      for (const queryKey of CHANGED_BY_JOBS) void queryClient.invalidateQueries({ queryKey });
    }
  }, [job, over, queryClient]);

  const progress = over ? (job?.progress ?? streamed) : newest(streamed, job?.progress);
  return { job, error: query.error, lines: log.lines, progress, reconnecting: !over && !connected };
}

function newest(a: JobProgress | undefined, b: JobProgress | undefined): JobProgress | undefined {
  if (!a || !b) return a ?? b;
  return a.updatedAt >= b.updatedAt ? a : b;
}
