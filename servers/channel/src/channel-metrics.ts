import type { Attributes } from '@opentelemetry/api';
import type { WebApiError } from '@rtm/protocol';
import { counter, preciseNow, recordHop } from '@rtm/telemetry';
import type { Handled } from './channel-server.js';

const posted = counter('rtm.messages.posted', 'Messages posted: sequenced, logged and committed', '{message}');
const delivered = counter('rtm.deliveries.written', 'Delivery records written to gateway inboxes (one per subscribed gateway per event)', '{delivery}');
const refused = counter('rtm.channel.refused', 'Commands the channel server refused, by Slack error code', '{command}');

/** One attribute set per error code (a closed set), built on first use. */
const refusedAttributes = new Map<WebApiError, Attributes>();

/** What one batch of a partition did, counted once its transaction committed. */
export interface BatchTally {
  /** When the batch's processing started, epoch ms with sub-ms precision. */
  readonly startedAt: number;
  posts: number;
  deliveries: number;
  refused: WebApiError[] | undefined;
}

/**
 * The channel server's metrics: the hops a post spends reaching and crossing this server,
 * and what a batch committed. Counted at commit, so an aborted batch (which is served again)
 * counts once. One batch per partition is in flight at a time, as Kafka hands them.
 */
export class ChannelMetrics {
  private readonly inFlight = new Map<number, BatchTally>();

  /** A batch of `partition` starts processing now. */
  begin(partition: number): BatchTally {
    const tally: BatchTally = { startedAt: preciseNow(), posts: 0, deliveries: 0, refused: undefined };
    this.inFlight.set(partition, tally);
    return tally;
  }

  /** A post record of the batch, written by its requester at `createdAt` (Kafka's CreateTime, ms). */
  postReceived(tally: BatchTally, createdAt: number): void {
    recordHop('publish_to_channel', tally.startedAt - createdAt);
  }

  /** What handling one command of the batch produced. */
  handled(tally: BatchTally, cmdType: string, handled: Handled): void {
    if (cmdType === 'post') tally.posts++;
    tally.deliveries += handled.deliveries ?? 0;
    if (handled.refused) (tally.refused ??= []).push(handled.refused);
  }

  /** The batch of `partition` committed: one `channel_processing` sample per post in it. */
  committed(partition: number): void {
    const tally = this.inFlight.get(partition);
    if (!tally) return;
    this.inFlight.delete(partition);
    const ms = preciseNow() - tally.startedAt;
    for (let i = 0; i < tally.posts; i++) recordHop('channel_processing', ms);
    if (tally.posts > 0) posted.add(tally.posts);
    if (tally.deliveries > 0) delivered.add(tally.deliveries);
    for (const code of tally.refused ?? []) {
      let attributes = refusedAttributes.get(code);
      if (!attributes) refusedAttributes.set(code, (attributes = { 'error.type': code }));
      refused.add(1, attributes);
    }
  }

  /** The batch of `partition` was aborted, or the partition moved away: nothing of it counts. */
  discard(partition: number): void {
    this.inFlight.delete(partition);
  }
}
