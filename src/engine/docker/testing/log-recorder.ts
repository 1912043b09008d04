// A CommandLog that keeps what it was told, for the tests of the CLI runners.
import type { CommandLog } from '../compose.js';

export interface LoggedLine {
  level: string;
  message: string;
}

export function recorder(): { lines: LoggedLine[]; log: CommandLog } {
  const lines: LoggedLine[] = [];
  return {
    lines,
    log: {
      async log(level, message) {
        lines.push({ level, message });
      },
    },
  };
}
