// What every registry's payload is read into: the events it announces, each naming (when it can)
// a host, a repository, a tag and a digest. Reading is lenient about fields Dockrev does not use
// and strict about the shape: a body that is not the source's format is refused with a message.

/** One event as a registry reported it, before host aliases and reference normalisation. */
export interface RegistryEvent {
  /** The registry's own event id, when it sends one. */
  id?: string;
  /** `push` for a push; anything else (`pull`, `delete`, `PULL_ARTIFACT`, …) is ignored. */
  action: string;
  /** The host the registry names itself with: `registry.example.com:5000`, `docker.io`. */
  host?: string;
  /** `acme/web`, `library/nginx`, `nginx`. */
  repository?: string;
  tag?: string;
  digest?: string;
  mediaType?: string;
}

export type ParsedDelivery = { ok: true; events: RegistryEvent[] } | { ok: false; message: string };

export type PayloadParser = (body: unknown) => ParsedDelivery;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-blank string, trimmed; anything else is undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** `host[:port]` of an absolute URL. */
export function hostOfUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

/** The host of an image reference that names one (`harbor.example.com/acme/web:1`, `quay.io/acme/web`). */
export function hostOfReference(reference: string | undefined): string | undefined {
  if (!reference) return undefined;
  const withoutScheme = reference.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  if (slash <= 0) return undefined;
  const first = withoutScheme.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}
