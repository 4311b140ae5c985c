import type { MessageEvent } from './frames.js';

/**
 * A message with one user's reaction added or removed; empty reactions disappear. The one
 * rule for applying a reaction, used by the channel owner and by readers of the log alike.
 */
export function withReaction(m: MessageEvent, name: string, user: string, action: 'add' | 'remove'): MessageEvent {
  const reactions = (m.reactions ?? []).map((r) => ({ ...r, users: r.users.filter((u) => u !== user) }));
  let r = reactions.find((x) => x.name === name);
  if (action === 'add') {
    if (!r) reactions.push((r = { name, users: [], count: 0 }));
    r.users.push(user);
  }
  for (const x of reactions) x.count = x.users.length;
  const kept = reactions.filter((x) => x.count > 0);
  const { reactions: _old, ...rest } = m;
  return kept.length > 0 ? { ...rest, reactions: kept } : (rest as MessageEvent);
}
