// A preview of a cron draft's next run, computed in the browser with the same parser the server
// validates with (croner), in the browser's time zone. Saved schedules show the server's own
// `nextRunAt` instead; this is for validating and previewing what has not been saved yet.
import { Cron } from 'croner';

export function nextRun(cron: string, from = new Date()): Date | undefined {
  try {
    return new Cron(cron, { paused: true }).nextRun(from) ?? undefined;
  } catch {
    return undefined;
  }
}
