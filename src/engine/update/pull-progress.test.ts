import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PullProgressTracker } from './pull-progress.js';

describe('PullProgressTracker', () => {
  it('reads download and extraction percentages and finished services in Compose v1 output', () => {
    const tracker = new PullProgressTracker(['web', 'api']);
    assert.equal(tracker.feed('Pulling web ... '), false);
    assert.equal(tracker.feed('Pulling web ... pulling from acme/web'), false);
    assert.equal(tracker.feed('Pulling web ... downloading (40.0%)'), true);
    assert.equal(tracker.snapshot().fraction, 0.1);
    assert.equal(tracker.feed('Pulling web ... extracting (100.0%)'), true);
    assert.equal(tracker.snapshot().fraction, 0.5);
    assert.equal(tracker.feed('Pulling web ... done'), false, 'extraction at 100 % already finished web');
    assert.equal(tracker.feed('Pulling api ... done'), true);
    assert.deepEqual(tracker.snapshot(), {
      servicesDone: 2,
      servicesTotal: 2,
      fraction: 1,
      download: { completedLayers: 0, totalLayers: 0, activeLayers: 0, status: 'Pulling api ... done' },
    });
  });

  it('follows layers and services in Compose v2 output', () => {
    const tracker = new PullProgressTracker(['web']);
    assert.equal(tracker.feed(' web Pulling '), false);
    tracker.feed(' 0123456789ab Pulling fs layer ');
    tracker.feed(' ba9876543210 Downloading [=>   ]  1MB/4MB');
    tracker.feed(' 0123456789ab Pull complete ');
    const midway = tracker.snapshot();
    assert.equal(midway.download.completedLayers, 1);
    assert.equal(midway.download.totalLayers, 2);
    assert.equal(midway.download.activeLayers, 1);
    assert.ok(midway.fraction > 0.4 && midway.fraction < 0.5);
    assert.equal(tracker.feed(' web Pulled '), true);
    assert.equal(tracker.snapshot().fraction, 1);
  });
});
