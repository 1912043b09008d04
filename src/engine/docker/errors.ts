/**
 * The Docker engine cannot be reached at all (socket missing, connection refused, no answer in
 * time). Callers treat it as "Docker is down" rather than as a problem with one object.
 */
export class DockerUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DockerUnavailableError';
  }
}

/** The engine answered, but the request failed (e.g. HTTP 404/500 from the Docker API). */
export class DockerError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DockerError';
  }

  /** The object asked for (image, volume, container) does not exist. */
  static isNotFound(error: unknown): boolean {
    return error instanceof DockerError && error.statusCode === 404;
  }
}
