import { randomBytes } from 'node:crypto';
import type { TestCluster } from '../harness.js';
import type { FuzzTargets } from './targets.js';
import type { RtmTargets } from './rtm-frames.js';

/** A user made for the fuzz run, with one token (more in the pools below). */
export interface FuzzUser {
  id: string;
  name: string;
  token: string;
}

/**
 * Everything a fuzz run needs on a fresh cluster: users who fuzz the Web API and others who
 * fuzz the websocket (so one cannot kick the other out of its channels), a private channel
 * and another team the fuzzers must learn nothing about (their names and messages carry
 * `marker`), and a healthy pair (a listener and a poster) in that private channel.
 */
export interface FuzzWorld {
  /** Appears in the private channel's and the other team's names and messages, nowhere else. */
  marker: string;
  webTargets: FuzzTargets;
  rtmTargets: RtmTargets;
  /** Genuine tokens of the Web API fuzzers, spread so no one token meets a rate limit. */
  webTokens: string[];
  /** Genuine tokens a case may revoke. */
  sacrificialTokens: string[];
  /** A token revoked before the run. */
  revokedToken: string;
  /** Tokens of the websocket fuzzers. */
  rtmTokens: string[];
  listener: FuzzUser;
  poster: FuzzUser;
  /** The private channel the healthy pair is in. */
  privateChannel: string;
  foreignTeam: string;
}

interface Made {
  user: { id: string; name: string; team_id: string };
  token: string;
}

/** Sizes of the world. */
export interface FuzzWorldOptions {
  webTokenCount: number;
  sacrificialTokenCount: number;
  rtmTokenCount: number;
}

/** Builds the world through the operator and Web APIs. */
export async function buildFuzzWorld(t: TestCluster, o: FuzzWorldOptions): Promise<FuzzWorld> {
  const op = <T>(path: string, body?: unknown) => t.cluster.operator<T>(path, body);
  const web = async (token: string, method: string, body: Record<string, unknown>) => {
    const r = await t.web(token, method, body);
    if (!r.ok) throw new Error(`${method}: ${JSON.stringify(r)}`);
    return r;
  };
  const marker = `zqleak${randomBytes(6).toString('hex')}`;
  const run = randomBytes(3).toString('hex');
  const user = async (name: string, team?: string): Promise<FuzzUser & { team: string }> => {
    const m = await op<Made>('users', { name: `${name}-${run}`, ...(team ? { team } : {}) });
    return { id: m.user.id, name: m.user.name, token: m.token, team: m.user.team_id };
  };
  const channel = async (name: string, members: FuzzUser[], isPrivate = false, team?: string): Promise<string> =>
    (await op<{ channel: { id: string } }>('channels', { name, members: members.map((m) => m.id), creator: members[0]!.id, is_private: isPrivate, ...(team ? { team } : {}) })).channel.id;
  const tokens = async (users: FuzzUser[], n: number): Promise<string[]> => {
    const out: string[] = [];
    // Fifty at a time: a long run asks for thousands.
    while (out.length < n) {
      const k = Math.min(50, n - out.length);
      out.push(...(await Promise.all(Array.from({ length: k }, (_, i) => op<{ token: string }>(`users/${users[(out.length + i) % users.length]!.id}/tokens`, {}).then((r) => r.token)))));
    }
    return out;
  };

  const webUsers = await Promise.all([1, 2, 3, 4].map((i) => user(`fz-web-${i}`)));
  const rtmUsers = await Promise.all([1, 2, 3].map((i) => user(`fz-rtm-${i}`)));
  const [listener, poster] = await Promise.all([user('fz-listener'), user('fz-poster')]);
  const privateChannel = await channel(`${marker}-secret`, [poster!, listener!], true);
  const outsider = await user(`${marker}-erin`, `${marker}team`);
  const foreignChannel = await channel(`${marker}-public`, [outsider], false, outsider.team);
  await web(outsider.token, 'chat.postMessage', { channel: foreignChannel, text: `${marker} from another team` });
  await web(poster!.token, 'chat.postMessage', { channel: privateChannel, text: `${marker} before the run` });

  const ownNames = ['a', 'b', 'c', 'd'].map((x) => `fz-web-${x}-${run}`);
  const ownChannels = await Promise.all(ownNames.map((n) => channel(n, webUsers)));
  const archivableChannels = await Promise.all(['x', 'y', 'z'].map((x) => channel(`fz-arch-${x}-${run}`, webUsers)));
  const rtmNames = ['a', 'b'].map((x) => `fz-rtm-${x}-${run}`);
  const rtmChannels = await Promise.all(rtmNames.map((n) => channel(n, rtmUsers)));
  const archivedChannel = await channel(`fz-rtm-old-${run}`, rtmUsers);
  await web(rtmUsers[0]!.token, 'conversations.archive', { channel: archivedChannel });

  const messageTs: string[] = [];
  for (const c of ownChannels) for (let i = 0; i < 3; i++) messageTs.push((await web(webUsers[i % webUsers.length]!.token, 'chat.postMessage', { channel: c, text: `seed ${i}` })).ts);
  const rtmTs: string[] = [];
  for (const c of rtmChannels) rtmTs.push((await web(rtmUsers[0]!.token, 'chat.postMessage', { channel: c, text: 'seed' })).ts);

  const revokedToken = (await tokens([webUsers[0]!], 1))[0]!;
  await op('tokens/revoke', { token: revokedToken });
  const teamUsers = [...webUsers, ...rtmUsers, listener!, poster!, ...t.info.demo.users].map((u) => u.id);
  const shared = { privateChannel, foreignChannel, teamUsers, foreignUser: outsider.id, regions: t.info.regions };
  return {
    marker,
    webTargets: { ...shared, ownChannels, ownChannelNames: ownNames, archivableChannels, messageTs },
    rtmTargets: { ...shared, ownChannels: rtmChannels, ownChannelNames: rtmNames, archivableChannels: [], messageTs: rtmTs, archivedChannel },
    webTokens: await tokens(webUsers, o.webTokenCount),
    sacrificialTokens: await tokens(webUsers, o.sacrificialTokenCount),
    revokedToken,
    rtmTokens: await tokens(rtmUsers, o.rtmTokenCount),
    listener: listener!,
    poster: poster!,
    privateChannel,
    foreignTeam: outsider.team,
  };
}
