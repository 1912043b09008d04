// Image details (repository digests and tags) kept per image id between engine reads. An image
// event marks only the images it is about, so another project's pulls and builds on a shared
// engine leave the rest trusted.
import type { DockerEvent, ImageInfo } from './engine.js';

interface KeptImage extends ImageInfo {
  /** Event generation when the read that produced it was asked for. */
  gen: number;
  /** Repositories named by its tags and digests: pull and push events name a repository, not an id. */
  repositories: Set<string>;
}

/** Marks kept for images and repositories not (yet) kept; beyond this, everything is read again. */
const MARKS_KEPT = 10_000;

/** `host:5000/a/b:tag` or `a/b@sha256:…` → `host:5000/a/b`. */
export function repositoryOf(reference: string): string {
  const at = reference.indexOf('@');
  if (at >= 0) return reference.slice(0, at);
  const colon = reference.lastIndexOf(':');
  return colon > reference.lastIndexOf('/') ? reference.slice(0, colon) : reference;
}

export class KeptImages {
  private readonly images = new Map<string, KeptImage>();
  /** Image id → generation of the newest event about it. */
  private readonly touched = new Map<string, number>();
  /** Repository → generation of the newest pull or push of it (for reads in flight when it came). */
  private readonly named = new Map<string, number>();
  /** The last full listing: generation, connection and when it was asked for. */
  full?: { gen: number; epoch: number; at: number };

  /** The kept answer for an image, when no event came after it was read. */
  get(imageId: string): ImageInfo | undefined {
    const image = this.images.get(imageId);
    if (!image || (this.touched.get(imageId) ?? 0) > image.gen) return undefined;
    return image;
  }

  event(gen: number, event: DockerEvent): void {
    const action = event.Action ?? '';
    const subject = event.Actor?.ID ?? '';
    // A prune reports each image it deletes on its own; import and load name what they made.
    if (action === 'prune') return;
    if (this.touched.size + this.named.size > MARKS_KEPT) {
      this.forget();
      return;
    }
    if (subject.startsWith('sha256:')) {
      this.touched.set(subject, gen);
      return;
    }
    // pull / push / load / import name a reference; the images carrying that repository may have new digests.
    const repository = event.Actor?.Attributes?.name ?? repositoryOf(subject);
    this.named.set(repository, gen);
    for (const [id, image] of this.images) if (image.repositories.has(repository)) this.touched.set(id, gen);
  }

  /** Everything is read again (a new connection to the event stream, a prune). */
  forget(): void {
    this.full = undefined;
    this.images.clear();
    this.touched.clear();
    this.named.clear();
  }

  /** Images read at `gen`; with `full`, the whole listing (images absent from it are forgotten). */
  land(images: ReadonlyMap<string, ImageInfo>, listing: { gen: number; epoch: number; at: number }, full: boolean): void {
    if (full) {
      this.images.clear();
      this.full = listing;
    }
    for (const [id, info] of images) {
      const repositories = new Set([...info.repoTags, ...info.repoDigests].map(repositoryOf));
      this.images.set(id, { ...info, gen: listing.gen, repositories });
      // A pull or push of one of its repositories while this read was in flight.
      const newest = Math.max(0, ...[...repositories].map((repository) => this.named.get(repository) ?? 0));
      if (newest > listing.gen) this.touched.set(id, Math.max(newest, this.touched.get(id) ?? 0));
    }
    // Marks older than this read are settled for what it read, and for everything after a full one.
    for (const [id, gen] of this.touched) if (gen <= listing.gen && (full || this.images.get(id)?.gen === listing.gen)) this.touched.delete(id);
    if (full) for (const [repository, gen] of this.named) if (gen <= listing.gen) this.named.delete(repository);
  }
}
