// Names of the per-job scratch an update leaves in Dockrev's override folder while it runs:
// override files `<jobId>-<stackId>.yml` and staged Docker configs `<jobId>.docker-config/`.
// Discovery (which must not mistake an override file for a project file) and recovery (which
// removes what dead jobs left) read the same rule.
import { join } from 'node:path';

export function overrideFilePath(overrideDir: string, jobId: string, stackId: string): string {
  return join(overrideDir, `${jobId}-${stackId}.yml`);
}

/** The job's copy of the Docker credentials (DOCKER_CONFIG for the CLI) while it runs. */
export function stagedDockerConfigPath(overrideDir: string, owner: string): string {
  return join(overrideDir, `${owner}.docker-config`);
}

/** The job an entry of the override folder belongs to; undefined for anything else. */
export function jobOwningOverrideEntry(name: string): string | undefined {
  return /^(job_[0-9A-Za-z]+)(?:-stk_[0-9A-Za-z]+\.yml|\.docker-config)$/.exec(name)?.[1];
}
