/** Fixed-width UTC timestamps with milliseconds, so string order is time order. */
export function nowIso(): string {
  return new Date().toISOString();
}

export function toIso(date: Date | number): string {
  return new Date(date).toISOString();
}
