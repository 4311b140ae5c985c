/** Calls the operator API (path under `/admin/api/`; a body makes it a POST). */
export type OperatorCall = <T = Record<string, unknown>>(path: string, body?: unknown) => Promise<T>;

/** The demo workspace the launcher creates through the operator API. */
export interface DemoWorkspace {
  users: Array<{ id: string; name: string; token: string }>;
  channels: Array<{ id: string; name: string }>;
}

/**
 * Creates the demo users (each with a fresh token) and channels (with every demo user a
 * member), or finds them from an earlier start of the same state.
 */
export async function createDemoWorkspace(operator: OperatorCall, names: string[], channelNames: string[]): Promise<DemoWorkspace> {
  const existing = (await operator<{ users: Array<{ id: string; name: string }> }>('users')).users;
  const users: DemoWorkspace['users'] = [];
  for (const name of names) {
    const found = existing.find((u) => u.name === name);
    if (found) {
      const { token } = await operator<{ token: string }>(`users/${found.id}/tokens`, {});
      users.push({ id: found.id, name, token });
    } else {
      const { user, token } = await operator<{ user: { id: string }; token: string }>('users', { name });
      users.push({ id: user.id, name, token });
    }
  }
  const channels: DemoWorkspace['channels'] = [];
  const known = (await operator<{ channels: Array<{ id: string; name: string }> }>('channels')).channels;
  for (const name of channelNames) {
    const found = known.find((c) => c.name === name);
    const c = found ?? (await operator<{ channel: { id: string; name: string } }>('channels', { name, members: users.map((u) => u.id) })).channel;
    if (found) await operator(`channels/${found.id}/members`, { users: users.map((u) => u.id) });
    channels.push({ id: c.id, name: c.name });
  }
  return { users, channels };
}
