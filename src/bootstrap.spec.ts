import { listenHost } from './bootstrap';

describe('listenHost', () => {
  it('listens on every interface with a strong master key and no HOST', () => {
    expect(listenHost(undefined, null)).toEqual({ host: '0.0.0.0', loopbackOnly: false });
  });

  it('keeps a gateway with a weak master key on loopback unless HOST is set', () => {
    expect(listenHost(undefined, 'the master key is a well-known example value')).toEqual({ host: '127.0.0.1', loopbackOnly: true });
  });

  it('honours an explicit HOST, weak key or not (the operator decided)', () => {
    expect(listenHost('0.0.0.0', 'the master key is shorter than 32 characters')).toEqual({ host: '0.0.0.0', loopbackOnly: false });
    expect(listenHost('10.0.0.5', null)).toEqual({ host: '10.0.0.5', loopbackOnly: false });
  });
});
