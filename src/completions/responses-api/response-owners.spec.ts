import type { Principal } from '../../keys/principal';
import type { CompiledDeployment } from '../deployment-table';
import { ResponseOwners } from './response-owners';

const deployment = { modelName: 'gpt' } as CompiledDeployment;
const principal = (overrides: Partial<Principal>): Principal =>
  ({ kind: 'key', isProxyAdmin: false, role: null, keyHash: null, keyAlias: null, teamId: null, teamAlias: null, allowedModels: null, keyMetadata: {}, teamMetadata: {}, teamLoggingDisabled: false, ...overrides });

describe(ResponseOwners.name, () => {
  const alice = principal({ keyHash: 'a', teamId: 't1' });
  const aliceTeammate = principal({ keyHash: 'b', teamId: 't1' });
  const stranger = principal({ keyHash: 'c', teamId: 't2' });
  const loner = principal({ keyHash: 'd' });
  const master = principal({ kind: 'master', isProxyAdmin: true });

  it('finds a response for the key that made it and its team, for no one else', () => {
    const owners = new ResponseOwners();
    owners.remember('resp_1', deployment, 'gpt', alice);
    expect(owners.find('resp_1', alice)?.deployment).toBe(deployment);
    expect(owners.find('resp_1', aliceTeammate)?.model).toBe('gpt');
    expect(owners.find('resp_1', stranger)).toBeUndefined();
    expect(owners.find('resp_1', master)).toBeUndefined();
    expect(owners.isOthers('resp_1', stranger)).toBe(true);
    expect(owners.isOthers('resp_1', alice)).toBe(false);
    expect(owners.isOthers('resp_unknown', stranger)).toBe(false);
    owners.forget('resp_1');
    expect(owners.find('resp_1', alice)).toBeUndefined();
  });

  it('a key without a team shares with no one; the master key sees what it made', () => {
    const owners = new ResponseOwners();
    owners.remember('resp_2', deployment, 'gpt', loner);
    expect(owners.find('resp_2', principal({ keyHash: 'e' }))).toBeUndefined();
    owners.remember('resp_3', deployment, 'gpt', master);
    expect(owners.find('resp_3', master)).toBeDefined();
    expect(owners.find('resp_3', loner)).toBeUndefined();
  });

  it('forgets expired entries', () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const owners = new ResponseOwners();
      owners.remember('resp_4', deployment, 'gpt', alice);
      jest.setSystemTime(31 * 24 * 3600 * 1000);
      expect(owners.find('resp_4', alice)).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });
});
