// Pre-update backups on the real Docker engine started by scripts/infra/up.sh: targets found on a
// Compose project's containers, size probes, archives and restores by helper containers. The test
// process and the engine share this machine's filesystem, as backups require.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BACKUP_HELPER_LABEL,
  BACKUP_STACK_LABEL,
  backupTargetKey,
  createBackupDocker,
  discoverMountedTargets,
  HelperTimeoutError,
  planBackup,
  readBackupManifest,
  restoreBackup,
  runBackup,
  type BackupDocker,
  type BackupRunResult,
  type PlannedBackupTarget,
  type RunBackupOptions,
} from '../src/engine/backup/index.js';
import { DEFAULT_STACK_BACKUP, DEFAULT_SYSTEM_SETTINGS, type BackupOverride, type ServiceSettings, type StackBackupTarget } from '../src/store/index.js';
import { createComposeProject, docker, run, uniqueName, type ComposeProject, infraOrSkip } from './fixtures/index.js';


const { infra, skip } = infraOrSkip();

const VOLUME_PATH = '/var/lib/app';

type PathSnapshot = Record<string, { type: string; mode: number; owner: string; content?: Buffer | string }>;

/** A file, or every entry under a folder (itself included): type, permission bits, owner and exact content. */
async function pathSnapshot(root: string): Promise<PathSnapshot> {
  const snapshot: PathSnapshot = {};
  const names = (await lstat(root)).isDirectory() ? (await readdir(root, { recursive: true })).sort() : [];
  for (const name of ['.', ...names]) {
    const path = join(root, name);
    const info = await lstat(path);
    const type = info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'link' : 'file';
    snapshot[name] = {
      type,
      mode: info.mode & 0o7777,
      owner: `${info.uid}:${info.gid}`,
      ...(type === 'file' ? { content: await readFile(path) } : type === 'link' ? { content: await readlink(path) } : {}),
    };
  }
  return snapshot;
}

const settingsWith = (volumeNames: Record<string, BackupOverride> = {}, bindPaths: Record<string, BackupOverride> = {}): { settings: ServiceSettings } => ({
  settings: { autoRollback: true, backupTargets: { volumeNames, bindPaths } },
});

describe('backups on the real Docker engine', { skip, timeout: 300_000 }, () => {
  const runId = uniqueName('bkp').toLowerCase();
  const stackId = (suffix: string) => `stk_${runId}-${suffix}`;
  const backupDocker = createBackupDocker({ dockerHost: infra!.dockerHost });
  const helperImage = infra!.baseImage;
  const missingVolume = `${runId}-never-created`;
  let baseDir = '';
  let project: ComposeProject;
  let appContainerId = '';
  let volumeName = '';
  let bindDir = '';
  let bindFile = '';
  let volumeBlob = Buffer.alloc(0);
  let mountedTargets: StackBackupTarget[] = [];
  let fullBackup: BackupRunResult;

  const inApp = async (script: string) => (await docker(['exec', appContainerId, 'sh', '-c', script])).stdout;
  /** Listing with type, mode and owner, then a checksum of every file: equal only when the bytes are. */
  const volumeSnapshot = () =>
    inApp(`cd ${VOLUME_PATH} && find . | sort | while read -r f; do
      if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else stat -c '%n %F %a %u:%g' "$f"; fi
    done && find . -type f | sort | xargs sha256sum`);
  const volumeBlobNow = async () => Buffer.from((await inApp(`base64 ${VOLUME_PATH}/db.bin`)).replace(/\s/g, ''), 'base64');
  const backup = (options: Partial<RunBackupOptions> & Pick<RunBackupOptions, 'stackId' | 'targets'>) =>
    runBackup({ docker: backupDocker, helperImage, baseDir, skipTargetsOverBytes: DEFAULT_SYSTEM_SETTINGS.backup.skipTargetsOverBytes, ...options });
  const byKey = (targets: readonly StackBackupTarget[]) => [...targets].sort((a, b) => backupTargetKey(a).localeCompare(backupTargetKey(b)));
  const leftoverHelpers = async () => {
    const { stdout } = await docker(['ps', '-a', '--filter', `label=${BACKUP_HELPER_LABEL}`, '--format', `{{.ID}} {{.Label "${BACKUP_STACK_LABEL}"}}`]);
    return stdout.split('\n').filter((line) => line.includes(`stk_${runId}`)).map((line) => line.split(' ')[0]!);
  };

  before(async () => {
    baseDir = await mkdtemp(join(tmpdir(), 'dockrev-backups-'));
    project = await createComposeProject({
      name: runId,
      services: {
        app: {
          image: helperImage,
          volumes: [`data:${VOLUME_PATH}`, './bind-data:/srv/data', './app.conf:/etc/app.conf', './config:/config:ro'],
          tmpfs: ['/scratch'],
        },
        other: { image: helperImage, volumes: ['other:/other'] },
      },
      topLevel: { volumes: { data: {}, other: {} } },
    });
    bindDir = join(project.dir, 'bind-data');
    bindFile = join(project.dir, 'app.conf');
    volumeName = `${project.name}_data`;
    await mkdir(join(bindDir, 'notes'), { recursive: true });
    await writeFile(join(bindDir, 'blob.bin'), randomBytes(40 * 1024));
    await writeFile(join(bindDir, 'notes', 'readme.txt'), 'uploads live here\n');
    await chmod(join(bindDir, 'notes', 'readme.txt'), 0o600);
    await chown(join(bindDir, 'notes'), 1001, 1002);
    await symlink('blob.bin', join(bindDir, 'latest'));
    await writeFile(bindFile, 'listen=8080\n');
    await chmod(bindFile, 0o640);
    await mkdir(join(project.dir, 'config'));
    await writeFile(join(project.dir, 'config', 'settings.ini'), 'read-only\n');
    await project.up();
    appContainerId = (await project.waitReady('app')).id;

    volumeBlob = randomBytes(48 * 1024);
    await inApp(`echo ${volumeBlob.toString('base64')} | base64 -d > ${VOLUME_PATH}/db.bin
      mkdir -p ${VOLUME_PATH}/nested/deep ${VOLUME_PATH}/empty
      echo note > ${VOLUME_PATH}/nested/deep/note.txt
      echo owned > ${VOLUME_PATH}/owned && chown 1234:5678 ${VOLUME_PATH}/owned && chmod 640 ${VOLUME_PATH}/owned
      ln -s nested/deep/note.txt ${VOLUME_PATH}/note-link`);
  });

  after(async () => {
    for (const id of await leftoverHelpers().catch(() => [])) await docker(['rm', '-f', '-v', id]).catch(() => undefined);
    await project?.dispose().catch((error) => console.error(`cleanup of ${project.name} failed:`, error));
    await docker(['volume', 'rm', '-f', missingVolume]).catch(() => undefined);
    if (baseDir) await rm(baseDir, { recursive: true, force: true });
  });

  it('finds the writable volumes and bind mounts of the services in scope only', async () => {
    mountedTargets = await discoverMountedTargets(backupDocker, project.name, ['app']);
    assert.deepEqual(byKey(mountedTargets), byKey([
      { kind: 'docker-volume', name: volumeName },
      { kind: 'bind-mount', path: bindDir },
      { kind: 'bind-mount', path: bindFile },
    ]));
    assert.deepEqual(await discoverMountedTargets(backupDocker, project.name, []), []);
  });

  it('plans those targets for a discovered stack that lists none', () => {
    const plan = planBackup({ backup: DEFAULT_STACK_BACKUP }, [settingsWith()], DEFAULT_SYSTEM_SETTINGS.backup, 'inherit', mountedTargets);
    assert.equal(plan.run, true);
    assert.deepEqual(plan.targets.map((target) => [target.decision, target.origin]), [['inherit', 'mount'], ['inherit', 'mount'], ['inherit', 'mount']]);
  });

  it('archives a volume, a bind folder and a bind file into <baseDir>/<stackId>/<timestamp>.tar.gz', async () => {
    const plan = planBackup({ backup: DEFAULT_STACK_BACKUP }, [settingsWith()], DEFAULT_SYSTEM_SETTINGS.backup, 'inherit', mountedTargets);
    const started = Date.now();
    fullBackup = await backup({ stackId: stackId('full'), targets: plan.targets, now: new Date('2026-01-02T03:04:05.678Z') });
    console.log(`three-target backup took ${Date.now() - started} ms`);

    assert.equal(fullBackup.status, 'success', fullBackup.error);
    assert.equal(fullBackup.artifactPath, join(baseDir, stackId('full'), '2026-01-02T03-04-05.678Z.tar.gz'));
    const archive = await stat(fullBackup.artifactPath!);
    assert.equal(fullBackup.sizeBytes, archive.size);
    assert.equal(archive.mode & 0o777, 0o600, 'backups hold secrets: owner-only');
    assert.deepEqual(await readdir(join(baseDir, stackId('full'))), ['2026-01-02T03-04-05.678Z.tar.gz'], 'no partial file left');
    assert.deepEqual(fullBackup.targets.map((target) => [target.status, target.decision]), [['included', 'inherit'], ['included', 'inherit'], ['included', 'inherit']]);
    const sizeOf = (key: string) => fullBackup.targets.find((target) => backupTargetKey(target) === key)!.sizeBytes!;
    assert.ok(sizeOf(`docker-volume:${volumeName}`) >= volumeBlob.length, 'the volume probe counts its 48 KiB file');
    assert.ok(sizeOf(`bind-mount:${bindDir}`) >= 40 * 1024, 'the folder probe counts its 40 KiB file');
    assert.equal(sizeOf(`bind-mount:${bindFile}`), 'listen=8080\n'.length, 'a bind-mounted file is probed by its apparent size');
  });

  it('holds a manifest first and each target under its slot, byte for byte', async () => {
    const manifest = await readBackupManifest(fullBackup.artifactPath!);
    assert.equal(manifest.stackId, stackId('full'));
    assert.equal(manifest.createdAt, '2026-01-02T03:04:05.678Z');
    assert.deepEqual(byKey(manifest.targets.map(({ slot: _slot, sizeBytes: _size, ...target }) => target)), byKey(mountedTargets));
    const slotOf = (key: string) => manifest.targets.find((target) => backupTargetKey(target) === key)!.slot;

    const listing = (await run('tar', ['-tzf', fullBackup.artifactPath!])).stdout.split('\n');
    assert.equal(listing[0], 'dockrev-backup.json');
    const extracted = await mkdtemp(join(tmpdir(), 'dockrev-backup-extract-'));
    try {
      await run('tar', ['-xzf', fullBackup.artifactPath!, '-C', extracted]);
      assert.deepEqual(await pathSnapshot(join(extracted, slotOf(`bind-mount:${bindDir}`))), await pathSnapshot(bindDir));
      assert.deepEqual(await readFile(join(extracted, slotOf(`bind-mount:${bindFile}`))), await readFile(bindFile));
      assert.deepEqual(await readFile(join(extracted, slotOf(`docker-volume:${volumeName}`), 'db.bin')), volumeBlob);
      const owned = await stat(join(extracted, slotOf(`docker-volume:${volumeName}`), 'owned'));
      assert.deepEqual([owned.uid, owned.gid, owned.mode & 0o777], [1234, 5678, 0o640]);
    } finally {
      await rm(extracted, { recursive: true, force: true });
    }
  });

  it('restores every target byte for byte after its data was changed and deleted', async () => {
    const volumeBefore = await volumeSnapshot();
    const folderBefore = await pathSnapshot(bindDir);
    const fileBefore = await pathSnapshot(bindFile);

    await inApp(`rm -r ${VOLUME_PATH}/nested && echo corrupted > ${VOLUME_PATH}/db.bin && echo stray > ${VOLUME_PATH}/stray && chmod 777 ${VOLUME_PATH}/owned`);
    await unlink(join(bindDir, 'blob.bin'));
    await rm(join(bindDir, 'notes'), { recursive: true });
    await writeFile(join(bindDir, 'stray.txt'), 'left over\n');
    await writeFile(bindFile, 'listen=9090\nchanged=1\n');
    await chmod(bindFile, 0o666);
    assert.notEqual(await volumeSnapshot(), volumeBefore, 'the volume changed');
    assert.notDeepEqual(await pathSnapshot(bindDir), folderBefore, 'the folder changed');
    assert.notDeepEqual(await pathSnapshot(bindFile), fileBefore, 'the file changed');

    await project.run(['stop', '-t', '1', 'app']);
    const started = Date.now();
    for (const target of mountedTargets) {
      await restoreBackup({ docker: backupDocker, helperImage, artifactPath: fullBackup.artifactPath!, target });
    }
    console.log(`three restores took ${Date.now() - started} ms`);
    await project.run(['start', 'app']);
    await project.waitReady('app');

    assert.equal(await volumeSnapshot(), volumeBefore);
    assert.deepEqual(await volumeBlobNow(), volumeBlob);
    assert.deepEqual(await pathSnapshot(bindDir), folderBefore);
    assert.deepEqual(await pathSnapshot(bindFile), fileBefore);
  });

  it('leaves an inherit target over the size limit out but keeps a forced one', async () => {
    const services = [settingsWith({ [volumeName]: 'force' }), settingsWith({ [volumeName]: 'skip' })];
    const plan = planBackup({ backup: DEFAULT_STACK_BACKUP }, services, DEFAULT_SYSTEM_SETTINGS.backup, 'inherit', mountedTargets);
    const result = await backup({ stackId: stackId('limit'), targets: plan.targets, skipTargetsOverBytes: 16 * 1024 });

    assert.equal(result.status, 'success', result.error);
    const statusOf = (key: string) => result.targets.find((target) => backupTargetKey(target) === key);
    assert.deepEqual([statusOf(`docker-volume:${volumeName}`)?.decision, statusOf(`docker-volume:${volumeName}`)?.status], ['force', 'included']);
    assert.deepEqual([statusOf(`bind-mount:${bindDir}`)?.decision, statusOf(`bind-mount:${bindDir}`)?.status], ['inherit', 'skipped_by_size']);
    assert.ok(statusOf(`bind-mount:${bindDir}`)!.sizeBytes! > 16 * 1024);
    assert.equal(statusOf(`bind-mount:${bindFile}`)?.status, 'included', 'small enough');
    const manifest = await readBackupManifest(result.artifactPath!);
    assert.deepEqual(byKey(manifest.targets.map(({ slot: _slot, sizeBytes: _size, ...target }) => target)), byKey([
      { kind: 'docker-volume', name: volumeName },
      { kind: 'bind-mount', path: bindFile },
    ]));
    const listing = (await run('tar', ['-tzf', result.artifactPath!])).stdout;
    assert.doesNotMatch(listing, /blob\.bin/, 'the folder over the limit is not in the archive');
  });

  it('leaves out targets every service in scope skips, and writes nothing when none is left', async () => {
    const skipAll = settingsWith({ [volumeName]: 'skip' }, { [bindDir]: 'skip', [bindFile]: 'skip' });
    const plan = planBackup({ backup: DEFAULT_STACK_BACKUP }, [skipAll, skipAll], DEFAULT_SYSTEM_SETTINGS.backup, 'inherit', mountedTargets);
    const result = await backup({ stackId: stackId('skip'), targets: plan.targets });

    assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'skipped', reason: 'no_included_targets' });
    assert.deepEqual(result.targets.map((target) => [target.decision, target.status, target.sizeBytes]), [
      ['skip', 'skipped_by_user', undefined],
      ['skip', 'skipped_by_user', undefined],
      ['skip', 'skipped_by_user', undefined],
    ]);
    assert.equal(existsSync(join(baseDir, stackId('skip'))), false);

    const oneSkipped = await backup({
      stackId: stackId('skip-one'),
      targets: planBackup({ backup: DEFAULT_STACK_BACKUP }, [settingsWith({}, { [bindDir]: 'skip' })], DEFAULT_SYSTEM_SETTINGS.backup, 'inherit', mountedTargets).targets,
    });
    assert.equal(oneSkipped.status, 'success', oneSkipped.error);
    assert.deepEqual(oneSkipped.targets.map((target) => target.status).sort(), ['included', 'included', 'skipped_by_user']);
  });

  it('skips a target whose probe fails, without creating a missing volume', async () => {
    const targets: PlannedBackupTarget[] = [
      { kind: 'docker-volume', name: missingVolume, decision: 'force', origin: 'stack' },
      { kind: 'bind-mount', path: join(project.dir, 'does-not-exist'), decision: 'inherit', origin: 'stack' },
      { kind: 'bind-mount', path: bindFile, decision: 'inherit', origin: 'mount' },
    ];
    const result = await backup({ stackId: stackId('probe'), targets });

    assert.equal(result.status, 'success', result.error);
    assert.deepEqual(result.targets.map((target) => target.status), ['skipped_by_probe_error', 'skipped_by_probe_error', 'included']);
    assert.match(result.targets[0]!.error!, new RegExp(`docker volume "${missingVolume}" does not exist`));
    assert.match(result.targets[1]!.error!, /does-not-exist/);
    await assert.rejects(docker(['volume', 'inspect', missingVolume]), /No such volume/i, 'the probe must not create the volume');
    assert.equal(existsSync(join(project.dir, 'does-not-exist')), false, 'the probe must not create the bind path');
  });

  it('fails with a clear error when the helper image does not exist', async () => {
    const result = await backup({ stackId: stackId('noimage'), targets: mountedTargets.map((target) => ({ ...target, decision: 'inherit' as const })), helperImage: `dockrev-test/${runId}-missing:none` });

    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', new RegExp(`backup helper image "dockrev-test/${runId}-missing:none" is not present on the Docker host`));
    assert.deepEqual(result.targets, []);
    assert.equal(existsSync(join(baseDir, stackId('noimage'))), false);
  });

  it('removes the helper and its partial archive when archiving times out', async () => {
    const result = await backup({
      stackId: stackId('timeout'),
      targets: mountedTargets.map((target) => ({ ...target, decision: 'inherit' as const })),
      timeouts: { archiveMs: 1 },
    });

    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /backup helper \(archive\) timed out after 1 ms/);
    assert.equal(result.targets.length, 3, 'the probes finished before the archive failed');
    assert.deepEqual(await readdir(join(baseDir, stackId('timeout'))), []);
  });

  it('deletes an archive the helper finished just before it was killed', async () => {
    // The archive is complete on disk, then the run is reported timed out (killed late).
    const killedLate: BackupDocker = {
      ...backupDocker,
      async runHelper(spec) {
        const result = await backupDocker.runHelper(spec);
        if (spec.purpose === 'archive') throw new HelperTimeoutError('backup helper (archive) timed out');
        return result;
      },
    };
    const result = await backup({ docker: killedLate, stackId: stackId('late'), targets: [{ kind: 'bind-mount', path: bindFile, decision: 'inherit' }] });

    assert.equal(result.status, 'failed');
    assert.deepEqual(await readdir(join(baseDir, stackId('late'))), []);
  });

  it('refuses to restore a target the archive does not hold', async () => {
    await assert.rejects(
      restoreBackup({ docker: backupDocker, helperImage, artifactPath: fullBackup.artifactPath!, target: { kind: 'docker-volume', name: `${project.name}_other` } }),
      new RegExp(`holds no backup of docker-volume:${project.name}_other`),
    );
  });

  it('leaves no helper container behind', async () => {
    assert.deepEqual(await leftoverHelpers(), []);
  });
});
