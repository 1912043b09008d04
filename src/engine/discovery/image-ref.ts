export interface ComposeImage {
  /** Repository without tag or digest, as written (`nginx`, `ghcr.io/acme/web`, `localhost:5000/app`). */
  ref: string;
  /** The tag, `latest` when none is given. */
  tag: string;
  /** The pinned digest of `repo@sha256:…` / `repo:tag@sha256:…`. */
  digest?: string;
}

/**
 * Splits a Compose `image:` string. The digest is cut off first, so `repo:tag@sha256:…` keeps its
 * tag and `repo@sha256:…` gets `latest`; then the tag is the text after the last `:` unless that
 * text contains `/` (then the `:` was a registry port).
 */
export function parseComposeImage(image: string): ComposeImage {
  const trimmed = image.trim();
  const at = trimmed.indexOf('@');
  const name = at === -1 ? trimmed : trimmed.slice(0, at);
  const digest = at === -1 ? undefined : trimmed.slice(at + 1) || undefined;
  const colon = name.lastIndexOf(':');
  const afterColon = name.slice(colon + 1);
  const hasTag = colon > 0 && !afterColon.includes('/');
  return {
    ref: hasTag ? name.slice(0, colon) : name,
    // An empty tag (`app:` after an unset variable) means Compose's default tag.
    tag: hasTag && afterColon !== '' ? afterColon : 'latest',
    ...(digest ? { digest } : {}),
  };
}

/** Whether an image reference names Dockrev's own repository (bare, with a tag or with a digest). */
export function isSelfImage(imageRef: string, selfImageRepo: string): boolean {
  const repo = selfImageRepo.trim();
  if (!repo) return false;
  return imageRef === repo || imageRef.startsWith(`${repo}:`) || imageRef.startsWith(`${repo}@`);
}
