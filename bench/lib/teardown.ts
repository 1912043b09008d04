// What a benchmark made, taken away in reverse order at the end, on failure and on Ctrl-C.
import { log } from './env.js';

export interface Teardown {
  /** Registers a step; steps run last first. */
  push(step: { what: string; run: () => Promise<unknown> }): void;
  /** Runs every step once (later calls wait for the same run); a failing step is logged, the rest still run. */
  run(): Promise<void>;
}

export function teardownOnExit(): Teardown {
  const steps: Array<{ what: string; run: () => Promise<unknown> }> = [];
  let running: Promise<void> | undefined;
  const run = () =>
    (running ??= (async () => {
      for (const step of steps.reverse()) {
        try {
          await step.run();
        } catch (error) {
          log(`cleanup: ${step.what} failed: ${(error as Error).message.split('\n')[0]}`);
        }
      }
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { push: (step) => void steps.push(step), run };
}
