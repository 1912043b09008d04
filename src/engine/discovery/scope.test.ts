import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewService } from '../../store/index.js';
import { COMPOSE_LABELS, type ComposeContainer } from '../docker/index.js';
import { projectExcludedByLabels, scopeServices } from './scope.js';

const SELF = 'ghcr.io/ivanli-cn/dockrev';
const optOut = { requireLabel: false, selfImageRepo: SELF };
const optIn = { requireLabel: true, selfImageRepo: SELF };

const running = (service: string, enable?: string): ComposeContainer => ({
  id: service,
  name: service,
  project: 'p',
  service,
  imageId: 'sha256:0',
  configuredImage: 'img',
  labels: { [COMPOSE_LABELS.project]: 'p', [COMPOSE_LABELS.service]: service, ...(enable === undefined ? {} : { 'dockrev.enable': enable }) },
  state: 'running',
});
const declared = (name: string, ref = `acme/${name}`): NewService => ({ name, image: { ref, tag: 'latest' } });
const labels = (entries: Record<string, Record<string, string>>) => new Map(Object.entries(entries));

describe('discovery scope', () => {
  it('reads true and false in any case and with spaces; anything else is reported and counts as absent', () => {
    const scoped = scopeServices(
      [declared('a'), declared('b'), declared('c'), declared('d')],
      { running: labels({ a: { 'dockrev.enable': ' FALSE' }, b: { 'dockrev.enable': 'True' }, c: { 'dockrev.enable': 'no' } }), declared: new Map() },
      optOut,
    );
    assert.deepEqual(scoped.included.map((s) => s.name), ['b', 'c', 'd']);
    assert.deepEqual(scoped.excluded, [{ service: 'a', rule: 'label_false' }]);
    assert.deepEqual(scoped.warnings, ['service c: label dockrev.enable="no" ignored (expected true or false)']);
    const strict = scopeServices([declared('b'), declared('c'), declared('d')], { running: labels({ b: { 'dockrev.enable': 'true' }, c: { 'dockrev.enable': 'no' } }), declared: new Map() }, optIn);
    assert.deepEqual(strict.included.map((s) => s.name), ['b']);
    assert.deepEqual(strict.excluded.map((e) => e.rule), ['label_required', 'label_required']);
  });

  it("prefers the running container's label over the file's, and uses the file's for a service that is not running", () => {
    const scoped = scopeServices(
      [declared('up'), declared('down')],
      { running: labels({ up: { 'dockrev.enable': 'true' } }), declared: labels({ up: { 'dockrev.enable': 'false' }, down: { 'dockrev.enable': 'true' } }) },
      optIn,
    );
    assert.deepEqual(scoped.included.map((s) => s.name), ['up', 'down']);
  });

  it("never includes Dockrev's own image, whatever its label", () => {
    const scoped = scopeServices([declared('dockrev', SELF), declared('other', `${SELF}-helper`)], { running: labels({ dockrev: { 'dockrev.enable': 'true' } }), declared: new Map() }, optOut);
    assert.deepEqual(scoped.excluded, [{ service: 'dockrev', rule: 'dockrev_image' }]);
    assert.deepEqual(scoped.included.map((s) => s.name), ['other']);
  });

  it('leaves a project out before reading its files only when no running service is in scope', () => {
    assert.deepEqual(projectExcludedByLabels([running('a', 'false'), running('b', 'false')], optOut)?.excluded.map((e) => e.rule), ['label_false', 'label_false']);
    assert.equal(projectExcludedByLabels([running('a', 'false'), running('b')], optOut), undefined);
    assert.equal(projectExcludedByLabels([running('a'), running('b', 'true')], optIn), undefined);
    assert.deepEqual(projectExcludedByLabels([running('a'), running('b', 'yes')], optIn)?.warnings, ['service b: label dockrev.enable="yes" ignored (expected true or false)']);
  });
});
