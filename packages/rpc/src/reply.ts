import type { Context } from '@opentelemetry/api';
import type { ReplyAddress, ReplyRecord } from '@rtm/protocol';
import type { OutRecord } from '@rtm/bus';

/** How a request turned out: its result, or an error code (Slack's `{ok:false,error}`). */
export type ReplyOutcome = { ok: true; result: unknown } | { ok: false; error: string };

/**
 * The record that answers a request: written to the asker's inbox and keyed by the
 * correlation id, which is all the asker's {@link Requester} matches it by.
 */
export function replyRecord(to: ReplyAddress, outcome: ReplyOutcome, context?: Context): OutRecord {
  const value: ReplyRecord = { type: 'reply', corr: to.corr, ...outcome };
  return { topic: to.inbox, key: to.corr, value, ...(context ? { context } : {}) };
}
