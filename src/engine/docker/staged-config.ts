// A private copy of the Docker credentials for the CLIs an update runs (DOCKER_CONFIG).
import { copyFile, mkdir, rm, stat, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { errorText } from '../../errors.js';

export interface StagedDockerConfig {
  /** The private folder to pass as DOCKER_CONFIG. */
  dir: string;
  /** Set when the configured file could not be read: the CLI then runs without credentials. */
  warning?: string;
  dispose(): Promise<void>;
}

async function isDirectory(path: string): Promise<boolean | undefined> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return undefined;
  }
}

/**
 * Copies the config.json of DOCKREV_DOCKER_CONFIG (a file, or a folder holding one) into `dir`, a
 * folder only its owner can read (replaced when it exists), because the CLI wants a writable
 * folder while the mounted config is often a read-only file. DOCKER_CONFIG also moves where
 * `docker` looks for CLI plugins (Compose v2 is one), so the staged folder links the plugin folder
 * of the configured folder, else of the CLI's usual one.
 */
export async function stageDockerConfig(configPath: string, dir: string): Promise<StagedDockerConfig> {
  const configIsDirectory = await isDirectory(configPath);
  const configFile = configIsDirectory ? join(configPath, 'config.json') : configPath;
  await mkdir(dirname(dir), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  const dispose = () => rm(dir, { recursive: true, force: true });
  let warning: string | undefined;
  try {
    await copyFile(configFile, join(dir, 'config.json'));
  } catch (error) {
    warning = `docker config ${configPath} unreadable (${errorText(error)}); docker and Compose run without registry credentials`;
  }
  const pluginCandidates = [
    join(configIsDirectory ? configPath : dirname(configPath), 'cli-plugins'),
    join(process.env.DOCKER_CONFIG || join(homedir(), '.docker'), 'cli-plugins'),
  ];
  for (const candidate of pluginCandidates) {
    if (await isDirectory(candidate)) {
      await symlink(candidate, join(dir, 'cli-plugins'));
      break;
    }
  }
  return { dir, ...(warning ? { warning } : {}), dispose };
}
