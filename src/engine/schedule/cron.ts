import { Cron } from 'croner';

/** Accepts 5-field and 6-field (with seconds) expressions; returns the parser's complaint. */
export function cronProblem(expression: string): string | undefined {
  try {
    new Cron(expression, { paused: true });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
