// The next run of a cron schedule, computed in the browser with the same parser the server
// validates with (croner), in the browser's time zone.
import { Cron } from 'croner';

export function nextRun(cron: string, from = new Date()): Date | undefined {
  try {
    return new Cron(cron, { paused: true }).nextRun(from) ?? undefined;
  } catch {
    return undefined;
  }
}
