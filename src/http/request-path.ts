// Request paths as the router sees them. A malformed percent-escape (`%ZZ`, a lone `%`, bytes that
// are not UTF-8) cannot be decoded into a path parameter, and the router's decoder throws on it.
// Such a segment is routed as its literal text instead, so the request still meets its route and
// authentication; an admitted request is then refused as a 400 (see `malformedPathError`).
import { envelope, HttpError } from './errors.js';

export interface RoutablePath {
  path: string;
  /** Set when some segment's escapes could not be decoded. */
  malformed: boolean;
}

function decodes(segment: string): boolean {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}

export function routablePath(path: string): RoutablePath {
  if (!path.includes('%')) return { path, malformed: false };
  let malformed = false;
  const segments = path.split('/').map((segment) => {
    if (decodes(segment)) return segment;
    malformed = true;
    return segment.replace(/%/g, '%25');
  });
  return { path: segments.join('/'), malformed };
}

export function malformedPathError(path: string): HttpError {
  return new HttpError(400, envelope('invalid_argument', 'malformed percent-escape in the request path', { errors: [{ path: '/path', message: `cannot decode ${JSON.stringify(path.slice(0, 200))}` }] }));
}
