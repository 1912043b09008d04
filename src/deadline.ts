/**
 * The promise's outcome, or the error `onTimeout` makes once `ms` have passed (it may also cancel
 * the work, e.g. abort a request). The timer never outlives the race, so it keeps no process alive.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
