import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJobsCursor, encodeJobsCursor, InvalidJobsCursorError } from './jobs.js';

// The jobs list cursor is opaque to clients but must round-trip exactly, and anything else must
// be refused as `invalid_jobs_cursor` rather than read as some other position.
describe('the jobs list cursor', () => {
  const position = { createdAt: '2026-03-05T08:00:00.000Z', id: 'chk_01JNR1Y6QK3G7W9T8E2M4B5C6F' };

  it('round-trips as unpadded base64url of exactly {createdAt, id}', () => {
    const text = encodeJobsCursor({ ...position, extra: 'dropped' } as typeof position);
    assert.match(text, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')), position);
    assert.deepEqual(decodeJobsCursor(text), position);
  });

  it('refuses what is not one of its cursors', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const refused = [
      '',
      'not base64!',
      `${encodeJobsCursor(position)}=`,
      `!${encodeJobsCursor(position)}`,
      Buffer.from('not json').toString('base64url'),
      encode(null),
      encode([position.createdAt, position.id]),
      encode({ createdAt: position.createdAt }),
      encode({ id: position.id }),
      encode({ createdAt: '', id: position.id }),
      encode({ createdAt: position.createdAt, id: '' }),
      encode({ createdAt: 5, id: position.id }),
      encode({ createdAt: position.createdAt, id: 7 }),
    ];
    for (const text of refused) {
      assert.throws(() => decodeJobsCursor(text), (error: unknown) => error instanceof InvalidJobsCursorError && error.kind === 'invalid_cursor' && error.message === 'invalid jobs cursor', JSON.stringify(text));
    }
  });

  it('is a domain failure named invalid_jobs_cursor', () => {
    const error = new InvalidJobsCursorError();
    assert.equal(error.code, 'invalid_jobs_cursor');
    assert.equal(error.name, 'InvalidJobsCursorError');
  });
});
