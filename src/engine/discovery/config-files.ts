import { basename, posix } from 'node:path';
import { jobOwningOverrideEntry } from '../update/scratch.js';

export type ConfigFilesFailure = 'config_files_empty' | 'config_files_relative_path_rejected';

export type ConfigFilesResult =
  | { ok: true; candidates: string[][] }
  | { ok: false; reason: ConfigFilesFailure };

/** Splits a `config_files` label on `,` and newlines, trims, drops empties, de-duplicates keeping order. */
export function normalizeConfigFiles(raw: string): string[] {
  const parts = raw
    .split(/[,\r\n]/)
    .map((part) => part.trim())
    // Containers an update recreated list Dockrev's temporary override file too; it is not the project's.
    .filter((part) => part !== '' && jobOwningOverrideEntry(basename(part)) === undefined);
  return [...new Set(parts)];
}

/**
 * Turns a project's `config_files` label into absolute paths. Compose v2 writes absolute paths.
 * Compose v1 writes each `-f` argument as typed, relative to the shell's folder, which the labels
 * do not record; `working_dir` is absolute. Candidates, most likely first:
 *  1. relative to `working_dir` (right when Compose ran in the project folder, the usual case);
 *  2. relative to the first file's folder, which is `working_dir` unless `--project-directory`
 *     was given (right for `-f sub/compose.yml` from a parent folder, or `../compose.yml` when
 *     Compose found the file by searching upward from a subfolder).
 * The caller uses the first candidate whose files can all be read. Relative paths without an
 * absolute `working_dir` are rejected.
 */
export function resolveConfigFiles(raw: string, workingDir: string | undefined): ConfigFilesResult {
  const files = normalizeConfigFiles(raw);
  if (files.length === 0) return { ok: false, reason: 'config_files_empty' };
  if (files.every((file) => posix.isAbsolute(file))) return { ok: true, candidates: [files] };
  if (!workingDir || !posix.isAbsolute(workingDir)) return { ok: false, reason: 'config_files_relative_path_rejected' };

  const fromWorkingDir = dedupe(files.map((file) => posix.resolve(workingDir, file)));
  const candidates = [fromWorkingDir];
  const firstFileDir = posix.dirname(files[0]!);
  if (!posix.isAbsolute(firstFileDir) && firstFileDir !== '.') {
    // Paths relative to the first file's folder; '/' stands in for the unknown shell folder.
    const anchor = posix.resolve('/', firstFileDir);
    const fromFirstFile = dedupe(
      files.map((file) => (posix.isAbsolute(file) ? file : posix.resolve(workingDir, posix.relative(anchor, posix.resolve('/', file))))),
    );
    if (!sameList(fromFirstFile, fromWorkingDir)) candidates.push(fromFirstFile);
  }
  return { ok: true, candidates };
}

const dedupe = (paths: string[]): string[] => [...new Set(paths)];

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
