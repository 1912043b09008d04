// Follows the output of `compose pull` to tell how far an update's pull has come.

export interface PullProgress {
  servicesDone: number;
  servicesTotal: number;
  /** Share of the pull that is done, 0..1. */
  fraction: number;
  download: { completedLayers: number; totalLayers: number; activeLayers: number; status?: string };
}

const LAYER_DONE = new Set(['Pull complete', 'Already exists']);
const LAYER_ACTIVE = new Set(['Downloading', 'Verifying Checksum', 'Download complete', 'Extracting']);

/**
 * Follows `compose pull` output. Without a terminal, v1 prints "Pulling web ... downloading (3.4%)"
 * and "Pulling web ... done" per service; v2 prints "web Pulled" per service and
 * "<layer> Downloading/Pull complete" per layer.
 */
export class PullProgressTracker {
  /** Per service: share pulled, 0..1. */
  private readonly shares: Map<string, number>;
  private readonly layers = new Map<string, string>();
  private status?: string;

  constructor(services: readonly string[]) {
    this.shares = new Map(services.map((service) => [service, 0]));
  }

  /** True when the line changed the progress. */
  feed(line: string): boolean {
    const text = line.trim();
    const finished = /^Pulling (\S+)\s+\.\.\.\s*(?:done|error)\b/.exec(text)?.[1] ?? /^(\S+) (?:Pulled|Error)\b/.exec(text)?.[1];
    if (finished !== undefined) return this.setShare(finished, 1, text);
    const partial = /^Pulling (\S+)\s+\.\.\.\s*(?:downloading|extracting) \((\d+(?:\.\d+)?)%\)/.exec(text);
    // Downloading and extracting each run to 100 %; count them as the two halves of the pull.
    if (partial) return this.setShare(partial[1]!, (Number(partial[2]) / 100) * 0.5 + (text.includes('extracting') ? 0.5 : 0), text);
    const layer = /^([0-9a-f]{12}) (Pulling fs layer|Waiting|Downloading|Verifying Checksum|Download complete|Extracting|Pull complete|Already exists)/.exec(text);
    if (layer && this.layers.get(layer[1]!) !== layer[2]) {
      this.layers.set(layer[1]!, layer[2]!);
      this.status = text;
      return true;
    }
    return false;
  }

  snapshot(): PullProgress {
    const shares = [...this.shares.values()];
    const servicesTotal = shares.length;
    const servicesDone = shares.filter((share) => share === 1).length;
    const states = [...this.layers.values()];
    const completedLayers = states.filter((state) => LAYER_DONE.has(state)).length;
    const activeLayers = states.filter((state) => LAYER_ACTIVE.has(state)).length;
    const byServices = servicesTotal > 0 ? shares.reduce((sum, share) => sum + share, 0) / servicesTotal : 1;
    // Layers finish before their service does; they only move the bar within the pull.
    const byLayers = states.length > 0 ? (completedLayers / states.length) * 0.99 : 0;
    return {
      servicesDone,
      servicesTotal,
      fraction: Math.max(byServices, byLayers),
      download: { completedLayers, totalLayers: states.length, activeLayers, ...(this.status ? { status: this.status } : {}) },
    };
  }

  private setShare(service: string, share: number, text: string): boolean {
    const previous = this.shares.get(service);
    if (previous === undefined || share <= previous) return false;
    this.shares.set(service, share);
    this.status = text;
    return true;
  }
}

