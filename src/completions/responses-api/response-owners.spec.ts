import { NO_LIMITS } from '../../budgets/usage-limits';
import type { Principal } from '../../keys/principal';
import type { CompiledDeployment } from '../deployment-table';
import { ownedBy, type ResponseOwner } from './response-owners';

const principal = (overrides: Partial<Principal>): Principal =>
  ({ kind: 'key', isProxyAdmin: false, role: null, keyHash: null, keyAlias: null, teamId: null, teamAlias: null, allowedModels: null, keyMetadata: {}, teamMetadata: {}, teamLoggingDisabled: false, userId: null, adminTeamIds: [], limits: NO_LIMITS, ...overrides });
const ownerOf = (maker: Principal): ResponseOwner => ({
  deployment: { modelName: 'gpt' } as CompiledDeployment,
  model: 'gpt',
  keyHash: maker.keyHash,
  teamId: maker.teamId,
  master: maker.kind === 'master',
});

describe(ownedBy.name, () => {
  const alice = principal({ keyHash: 'a', teamId: 't1' });
  const aliceTeammate = principal({ keyHash: 'b', teamId: 't1' });
  const stranger = principal({ keyHash: 'c', teamId: 't2' });
  const loner = principal({ keyHash: 'd' });
  const master = principal({ kind: 'master', isProxyAdmin: true });

  it('a response belongs to the key that made it and its team, to no one else', () => {
    const owner = ownerOf(alice);
    expect([alice, aliceTeammate, stranger, loner, master].map((caller) => ownedBy(owner, caller))).toEqual([true, true, false, false, false]);
  });

  it('a key without a team shares with no one; the master key sees only what it made', () => {
    expect(ownedBy(ownerOf(loner), principal({ keyHash: 'e' }))).toBe(false);
    expect(ownedBy(ownerOf(master), master)).toBe(true);
    expect(ownedBy(ownerOf(master), loner)).toBe(false);
  });
});
