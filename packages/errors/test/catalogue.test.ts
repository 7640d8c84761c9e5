import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ERROR_CATALOGUE, PasserelleError, isPasserelleError, renderErrorDocs } from '../src/index.js';

describe('error catalogue', () => {
  test('errors - docs/errors.md matches the catalogue (run pnpm gen:errors after adding a code)', () => {
    const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    expect(docs).toBe(renderErrorDocs());
  });

  test('errors - every code is ERR_ followed by upper-case words', () => {
    for (const code of Object.keys(ERROR_CATALOGUE)) expect(code).toMatch(/^ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
  });

  test('errors - an error carries its code, name, retryability and a JSON form', () => {
    class StreamError extends PasserelleError<'ERR_NO_STREAM'> {}
    const err = new StreamError('ERR_NO_STREAM', 'no stream covers pex.msg.x', {
      details: { subject: 'pex.msg.x' },
    });
    expect(err.name).toBe('StreamError');
    expect(err.retryable).toBe(false);
    expect(isPasserelleError(err, 'ERR_NO_STREAM')).toBe(true);
    expect(isPasserelleError(err, 'ERR_CONFIG_INVALID')).toBe(false);
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'StreamError',
      code: 'ERR_NO_STREAM',
      message: 'no stream covers pex.msg.x',
      details: { subject: 'pex.msg.x' },
    });
  });
});
