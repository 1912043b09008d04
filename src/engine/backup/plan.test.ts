import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { BackupOverride, ServiceSettings, StackBackupTarget } from '../../store/index.js';
import { backupTargetsFromMounts, MANIFEST_FILE, planBackup, readBackupManifest, slotName, type ContainerMount } from './index.js';

const volume = (name: string): StackBackupTarget => ({ kind: 'docker-volume', name });
const bind = (path: string): StackBackupTarget => ({ kind: 'bind-mount', path });
const stackWith = (...targets: StackBackupTarget[]) => ({ backup: { targets, retention: { keepLast: 1, deleteAfterStableSeconds: 3600 } } });
const service = (volumeNames: Record<string, BackupOverride> = {}, bindPaths: Record<string, BackupOverride> = {}): { settings: ServiceSettings } => ({
  settings: { autoRollback: true, backupTargets: { volumeNames, bindPaths } },
});
const enabled = { enabled: true };
const disabled = { enabled: false };

describe('planBackup', () => {
  it('runs by mode: skip never, force always, inherit as the settings say', () => {
    const stack = stackWith(volume('db'));
    assert.deepEqual(planBackup(stack, [], enabled, 'skip'), { run: false, reason: 'disabled', targets: [{ ...volume('db'), decision: 'inherit', origin: 'stack' }] });
    assert.equal(planBackup(stack, [], disabled, 'force').run, true);
    assert.equal(planBackup(stack, [], enabled, 'inherit').run, true);
    assert.deepEqual(planBackup(stack, [], disabled, 'inherit'), { run: false, reason: 'disabled', targets: [{ ...volume('db'), decision: 'inherit', origin: 'stack' }] });
  });

  it('reports no_targets when neither the stack nor the mounts name any', () => {
    assert.deepEqual(planBackup(stackWith(), [service()], enabled, 'force'), { run: false, reason: 'no_targets', targets: [] });
    assert.deepEqual(planBackup(stackWith(), [service()], disabled, 'inherit'), { run: false, reason: 'disabled', targets: [] });
  });

  it('adds mounted targets the stack does not list, after the configured ones', () => {
    const plan = planBackup(stackWith(volume('db'), bind('/srv/app/')), [service()], enabled, 'inherit', [bind('/srv/app'), volume('cache'), volume('db')]);
    assert.deepEqual(plan, {
      run: true,
      targets: [
        { ...volume('db'), decision: 'inherit', origin: 'stack' },
        { ...bind('/srv/app/'), decision: 'inherit', origin: 'stack' },
        { ...volume('cache'), decision: 'inherit', origin: 'mount' },
      ],
    });
  });

  it('combines overrides: any force wins, then any inherit, skip only when every service skips', () => {
    const decide = (...overrides: (BackupOverride | undefined)[]) => {
      const services = overrides.map((override) => service(override ? { db: override } : {}));
      const plan = planBackup(stackWith(volume('db')), services, enabled, 'inherit');
      return plan.targets[0]!.decision;
    };
    assert.equal(decide(), 'inherit', 'no service in scope');
    assert.equal(decide(undefined), 'inherit', 'no override: inherit');
    assert.equal(decide('skip', 'force', 'inherit'), 'force');
    assert.equal(decide('skip', 'inherit'), 'inherit');
    assert.equal(decide('skip', undefined), 'inherit');
    assert.equal(decide('skip', 'skip'), 'skip');
  });

  it('matches bind overrides on the normalized path and volume overrides on the exact name', () => {
    const plan = planBackup(stackWith(bind('/srv/app/data'), volume('proj_db')), [service({ db: 'skip' }, { '/srv/app//data/': 'skip' })], enabled, 'inherit');
    assert.deepEqual(plan.targets.map((target) => target.decision), ['skip', 'inherit']);
  });
});

describe('backupTargetsFromMounts', () => {
  const mount = (fields: Partial<ContainerMount>): ContainerMount => ({ type: 'volume', source: '/var/lib/docker/volumes/x/_data', destination: '/x', readWrite: true, ...fields });

  it('keeps writable volumes (named or anonymous) and binds, once each', () => {
    const anonymous = 'f'.repeat(64);
    assert.deepEqual(
      backupTargetsFromMounts([
        mount({ name: 'proj_db' }),
        mount({ name: anonymous }),
        mount({ type: 'bind', source: '/srv/app/uploads' }),
        mount({ name: 'proj_db', destination: '/other' }),
        mount({ type: 'bind', source: '/srv/app/uploads/' }),
      ]),
      [volume('proj_db'), volume(anonymous), bind('/srv/app/uploads')],
    );
  });

  it('leaves out read-only mounts, system paths and other mount types', () => {
    assert.deepEqual(
      backupTargetsFromMounts([
        mount({ name: 'proj_config', readWrite: false }),
        mount({ type: 'bind', source: '/srv/app/config', readWrite: false }),
        mount({ type: 'bind', source: '/var/run/docker.sock' }),
        mount({ type: 'bind', source: '/run/docker.sock' }),
        mount({ type: 'bind', source: '/dev/dri' }),
        mount({ type: 'tmpfs', source: '' }),
        mount({ type: 'bind', source: '/srv/runner' }),
      ]),
      [bind('/srv/runner')],
    );
  });
});

describe('slotName', () => {
  it('is readable, shell-safe and unique by index', () => {
    assert.equal(slotName(0, volume('shop_db')), '1-volume-shop_db');
    assert.equal(slotName(1, bind('/srv/shop uploads/')), '2-bind-srv-shop-uploads');
    assert.equal(slotName(2, bind('/')), '3-bind');
    assert.match(slotName(9, bind(`/${'x'.repeat(200)}`)), /^10-bind-x{60}$/);
  });
});

describe('readBackupManifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockrev-manifest-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** One ustar entry, as busybox tar writes it. */
  const tarEntry = (name: string, content: Buffer): Buffer => {
    const header = Buffer.alloc(512);
    header.write(name, 0, 'utf8');
    header.write(content.length.toString(8).padStart(11, '0'), 124, 'ascii');
    const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
    return Buffer.concat([header, content, padding]);
  };
  const writeArchive = (name: string, ...entries: Buffer[]) => {
    const path = join(dir, name);
    writeFileSync(path, gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)])));
    return path;
  };

  it('reads a first entry that compresses to more than the first read', async () => {
    // Random names do not compress much: this manifest stays well over 64 KiB gzipped.
    const names = Array.from({ length: 4000 }, () => randomBytes(24).toString('hex'));
    const manifest = {
      format: 'dockrev-backup/1',
      stackId: 'stk_1',
      createdAt: '2026-01-01T00:00:00.000Z',
      targets: names.map((name, index) => ({ ...volume(name), slot: slotName(index, volume(name)) })),
    };
    const noise = Buffer.from(Array.from({ length: 300_000 }, (_, index) => (index * 7919) % 251));
    const path = writeArchive('big.tar.gz', tarEntry(MANIFEST_FILE, Buffer.from(JSON.stringify(manifest))), tarEntry('1-volume-v0/blob', noise));
    assert.deepEqual(await readBackupManifest(path), manifest);
  });

  it('rejects archives that are not Dockrev backups', async () => {
    const other = writeArchive('other.tar.gz', tarEntry('etc/passwd', Buffer.from('root:x:0:0')));
    await assert.rejects(readBackupManifest(other), /not a Dockrev backup: its first entry is "etc\/passwd"/);
    const plain = join(dir, 'plain.tar.gz');
    writeFileSync(plain, 'not gzip at all');
    await assert.rejects(readBackupManifest(plain), /not a gzip-compressed backup archive/);
    const truncated = join(dir, 'truncated.tar.gz');
    writeFileSync(truncated, gzipSync(tarEntry(MANIFEST_FILE, Buffer.from('{"format":"dockrev-backup/1"}'))).subarray(0, 30));
    await assert.rejects(readBackupManifest(truncated), /ends before its dockrev-backup.json does/);
  });
});
