import { parse } from 'yaml';
import type { NewService, ServiceHomepage } from '../../store/index.js';
import { interpolate } from './env-file.js';
import { parseComposeImage } from './image-ref.js';

/** What discovery reads of one service in one Compose file. */
export interface ComposeServiceDefinition {
  image?: string;
  labels: Record<string, string>;
}

export type ComposeServices = Map<string, ComposeServiceDefinition>;

/** A Compose file that is not YAML or not shaped like a Compose file. */
export class ComposeFileError extends Error {}

const HOMEPAGE_FIELDS = ['group', 'name', 'icon', 'href', 'description'] as const;

type PlainObject = Record<string, unknown>;
const isPlainObject = (value: unknown): value is PlainObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads the services of one Compose file, with `image` and label values interpolated from
 * `variables`. A file without `services` (an override that only adds networks) has none.
 */
export function parseComposeServices(text: string, variables: Readonly<Record<string, string>> = {}): ComposeServices {
  let document: unknown;
  try {
    // `merge` honours YAML 1.1 `<<: *anchor` keys, which Compose files use for shared fragments;
    // warnings (e.g. Compose's own `!reset` tags) must not reach the console.
    document = parse(text, { merge: true, logLevel: 'error' });
  } catch (error) {
    throw new ComposeFileError(error instanceof Error ? error.message.split('\n')[0]! : String(error));
  }
  if (!isPlainObject(document)) throw new ComposeFileError('the top level must be a mapping');
  const services: ComposeServices = new Map();
  if (document.services === undefined || document.services === null) return services;
  if (!isPlainObject(document.services)) throw new ComposeFileError("'services' must be a mapping");

  for (const [name, definition] of Object.entries(document.services)) {
    if (definition !== null && !isPlainObject(definition)) throw new ComposeFileError(`service '${name}' must be a mapping`);
    const image = definition?.image;
    if (image !== undefined && image !== null && typeof image !== 'string') {
      throw new ComposeFileError(`service '${name}': 'image' must be a string`);
    }
    services.set(name, {
      ...(typeof image === 'string' ? { image: interpolate(image, variables) } : {}),
      labels: Object.fromEntries(
        Object.entries(composeLabels(definition?.labels)).map(([key, value]) => [key, interpolate(value, variables)]),
      ),
    });
  }
  return services;
}

/** Later files override earlier ones per service: a later `image` wins, labels merge key by key. */
export function mergeComposeServices(files: readonly ComposeServices[]): ComposeServices {
  const merged: ComposeServices = new Map();
  for (const services of files) {
    for (const [name, definition] of services) {
      const earlier = merged.get(name);
      const image = definition.image ?? earlier?.image;
      merged.set(name, { ...(image !== undefined ? { image } : {}), labels: { ...earlier?.labels, ...definition.labels } });
    }
  }
  return merged;
}

/** The services discovery registers: those with an image (build-only services are skipped), by name. */
export function servicesFromCompose(services: ComposeServices): NewService[] {
  return [...services]
    .filter((entry): entry is [string, ComposeServiceDefinition & { image: string }] => Boolean(entry[1].image?.trim()))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, definition]) => {
      const { ref, tag } = parseComposeImage(definition.image);
      const homepage = homepageFromLabels(definition.labels);
      return { name, image: { ref, tag }, ...(homepage ? { homepage } : {}) };
    });
}

/** Compose labels in map (`key: value`) or list (`- key=value`) syntax, as strings. */
export function composeLabels(labels: unknown): Record<string, string> {
  if (Array.isArray(labels)) {
    const entries = labels
      .filter((item): item is string => typeof item === 'string')
      .map((item) => {
        const equals = item.indexOf('=');
        return equals === -1 ? [item, ''] : [item.slice(0, equals), item.slice(equals + 1)];
      });
    return Object.fromEntries(entries);
  }
  if (isPlainObject(labels)) {
    return Object.fromEntries(Object.entries(labels).map(([key, value]) => [key, value === null ? '' : String(value)]));
  }
  return {};
}

export function sameHomepage(a: ServiceHomepage | undefined, b: ServiceHomepage | undefined): boolean {
  return HOMEPAGE_FIELDS.every((field) => a?.[field] === b?.[field]);
}

/** `homepage.group|name|icon|href|description` labels (gethomepage.dev's convention). */
export function homepageFromLabels(labels: Readonly<Record<string, string>>): ServiceHomepage | undefined {
  const homepage: ServiceHomepage = {};
  for (const field of HOMEPAGE_FIELDS) {
    const value = labels[`homepage.${field}`]?.trim();
    if (value) homepage[field] = value;
  }
  return Object.keys(homepage).length > 0 ? homepage : undefined;
}
