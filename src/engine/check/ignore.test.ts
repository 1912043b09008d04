import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IgnoreRule } from '../../store/index.js';
import { matchIgnoreRule, ruleMatches, semverRequirementMatches } from './ignore.js';

const rule = (kind: string, value: string, id = 'ign_1', enabled = true): IgnoreRule => ({
  id,
  enabled,
  scope: { type: 'service', serviceId: 'svc_1' },
  match: { kind, value },
  createdAt: '2026-01-01T00:00:00.000Z',
});

describe('ignore rules', () => {
  it('matches exact, prefix and regex rules; unknown kinds behave as exact', () => {
    assert.equal(ruleMatches(rule('exact', '5.3.1'), '5.3.1'), true);
    assert.equal(ruleMatches(rule('exact', '5.3'), '5.3.1'), false);
    assert.equal(ruleMatches(rule('prefix', '5.3.'), '5.3.1'), true);
    assert.equal(ruleMatches(rule('prefix', '5.3.'), '5.4.0'), false);
    assert.equal(ruleMatches(rule('regex', '-rc\\d+$'), '2.0.0-rc1'), true);
    assert.equal(ruleMatches(rule('regex', '^latest'), 'stable-latest'), false);
    assert.equal(ruleMatches(rule('regex', '(unclosed'), 'anything'), false, 'a broken regex never matches');
    assert.equal(ruleMatches(rule('glob', 'latest'), 'latest'), true);
    assert.equal(ruleMatches(rule('regex', '^\\p{Lu}'), 'Release'), true, 'regexes are Unicode-aware');
    assert.equal(ruleMatches(rule('semver', '^1.2'), '1.4.0'), true);
    assert.equal(ruleMatches(rule('semver', '^1.2'), '^1.2'), false, 'a semver rule is no exact rule');
    assert.equal(ruleMatches(rule('prefix', '5.3.'), '5.3.'), true);
  });

  it('matches standard semver ranges, with coercion of the tag and a leading v', () => {
    const cases: [string, string, boolean][] = [
      ['>=5.3, <5.4', '5.3.7', true],
      ['>=5.3, <5.4', 'v5.3', true],
      ['>=5.3, <5.4', '5.4.0', false],
      ['>=5.3 <5.4', '5.3.9', true],
      ['^1.2', '1.9.0', true],
      ['^1.2', '2.0.0', false],
      ['^0.2.3', '0.2.9', true],
      ['^0.2.3', '0.3.0', false],
      ['~1.2', '1.2.5', true],
      ['~1.2', '1.3.0', false],
      ['1.2', '1.2.5', true],
      ['1.2', '1.5.0', false],
      ['>=1 || 0.9.x', '0.9.4', true],
      ['>=1 || 0.9.x', '0.8.0', false],
      ['=1.2', '1.2.9', true],
      ['=1.2', '1.3.0', false],
      ['1.*', '1.99.0', true],
      ['*', '7', true],
      ['>2', '2.5.0', false],
      ['>2', '3.0.0', true],
      ['<=2', '2.9.9', true],
      ['>=1.0.0', '2.0.0-beta.1', false],
      ['>=2.0.0-alpha', '2.0.0-beta.1', true],
      ['>=5', 'latest', false],
      ['not a requirement', '1.0.0', false],
      // Every comma form separates comparators that must all hold.
      ['>=5.3, <5.4', '5.2.0', false],
      ['>=5.3,<5.4', '5.3.1', true],
      ['>=5.3 ,<5.4', '5.9.0', false],
      // The tag is read whole: digits of any length, build metadata, surrounding space; nothing around it.
      ['>=10', '10.2.0', true],
      ['>=1.2.10', '1.2.10', true],
      ['>=1.2.3', '1.2.3+build.5', true],
      ['>=1.2.3', ' 1.2.3 ', true],
      ['>=1', 'release-1.2.3', false],
      ['>=1', '1.2.3junk', false],
      ['>=1', '1.2.3+bad!', false],
    ];
    for (const [requirement, tag, expected] of cases) {
      assert.equal(semverRequirementMatches(requirement, tag), expected, `${requirement} vs ${tag}`);
    }
  });

  it('takes the first enabled matching rule and explains the match', () => {
    const rules = [rule('exact', '1.0.0', 'ign_disabled', false), rule('prefix', '1.', 'ign_prefix'), rule('exact', '1.0.0', 'ign_exact')];
    assert.deepEqual(matchIgnoreRule(rules, '1.0.0'), { matched: true, ruleId: 'ign_prefix', reason: 'matched ignore rule for tag 1.0.0' });
    assert.equal(matchIgnoreRule(rules, '2.0.0'), undefined);
  });
});
