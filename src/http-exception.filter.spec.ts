import { QueryFailedError } from 'typeorm';
import { toAppException } from './http-exception.filter';

function queryFailed(code: string): QueryFailedError {
  return new QueryFailedError('INSERT ...', [], Object.assign(new Error(`postgres error ${code}`), { code }));
}

describe(toAppException.name, () => {
  it.each([
    ['22P05', 'a NUL (\\u0000) in JSONB'],
    ['22021', 'a NUL byte in text'],
    ['22001', 'a value too long for its column'],
    ['22P02', 'a malformed value'],
    ['22003', 'a number out of range'],
    ['54000', 'a value too large to store'],
    ['54001', 'a value nested too deeply'],
  ])('maps PostgreSQL %s (%s) to a 400, the backstop behind the routes’ own checks', (code) => {
    expect(toAppException(queryFailed(code))).toMatchObject({ status: 400, code: 'validation_failed', type: 'invalid_request_error' });
  });

  it('keeps 23505 a 409 and anything else a 500', () => {
    expect(toAppException(queryFailed('23505'))).toMatchObject({ status: 409, code: 'conflict' });
    expect(toAppException(queryFailed('42P01'))).toMatchObject({ status: 500, code: 'internal_error' });
    expect(toAppException(new Error('boom'))).toMatchObject({ status: 500, code: 'internal_error' });
  });

  it('answers an unsupported charset or encoding with 415 and how to send the body', () => {
    expect(toAppException(Object.assign(new Error('x'), { type: 'charset.unsupported' }))).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect(toAppException(Object.assign(new Error('x'), { type: 'encoding.unsupported' })).message).toMatch(/gzip, deflate, br or zstd/);
  });
});
