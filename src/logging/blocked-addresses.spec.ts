import { blockedAddressReason } from './blocked-addresses';

describe('blockedAddressReason', () => {
  it.each(['1.1.1.1', '8.8.4.4', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e'])('treats %s as public', (ip) => {
    expect(blockedAddressReason(ip)).toBeNull();
  });

  it.each(['::', '::1', '::ffff:10.0.0.1', '::ffff:192.168.0.1', '2001:db8::1', '2002:7f00:1::1', 'ff02::1', 'fc00::1', '64:ff9b::8.8.8.8'])(
    'blocks %s',
    (ip) => {
      expect(blockedAddressReason(ip)).not.toBeNull();
    },
  );

  it('does not treat IPv4-mapped public addresses as blocked', () => {
    expect(blockedAddressReason('::ffff:8.8.8.8')).toBeNull();
  });
});
