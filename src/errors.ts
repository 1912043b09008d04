/** The message of an error for logs, job summaries and responses; AggregateError (e.g. a refused connection to several addresses) gives its first cause. */
export function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorText(error.errors[0]);
  return error instanceof Error ? error.message || String(error) : String(error);
}
