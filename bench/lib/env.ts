// What every benchmark reads from its environment and prints with.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (benchmarks run from dist/bench/…). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${raw}'`);
  return value;
}

export const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
export const sleep = (ms: number) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
}
