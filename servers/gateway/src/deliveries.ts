import { SpanKind, trace } from '@opentelemetry/api';
import type { DeliverRecord } from '@rtm/protocol';
import { processAttributes, type InRecord } from '@rtm/bus';
import type { CatchUp } from './catch-up.js';
import type { ChannelMembership } from './channel-membership.js';
import { countDelivery, messageReceived } from './gateway-metrics.js';
import type { Event, RecentEvents } from './recent-events.js';
import type { SessionTable } from './sessions.js';
import type { Subscriptions } from './subscriptions.js';

const tracer = trace.getTracer('rtm-gateway');

/** The `gateway.receive` span's attributes: where in the inbox the delivery was read. */
function receiveAttributes(raw: InRecord, channel: string, event: Event) {
  return {
    ...processAttributes(raw),
    'rtm.channel': channel,
    'rtm.event': event.type,
    ...(typeof event.ts === 'string' ? { 'rtm.ts': event.ts } : {}),
  };
}

/** Settings of {@link Deliveries}. */
export interface DeliveriesOptions {
  sessions: SessionTable;
  subscriptions: Subscriptions;
  recent: RecentEvents;
  catchUp: CatchUp;
  membership: ChannelMembership;
}

/** Hands each delivery from a channel server to the local members of its channel. */
export class Deliveries {
  private deliveries = 0;

  constructor(private readonly o: DeliveriesOptions) {}

  /** Pushes a delivery to the local members of its channel (or holds it for those catching up). */
  deliver(record: DeliverRecord, raw: InRecord): void {
    this.deliveries++;
    countDelivery();
    const channel = record.channel;
    const event = record.event as Event;
    const received = tracer.startSpan('gateway.receive', { kind: SpanKind.CONSUMER, attributes: receiveAttributes(raw, channel, event) }, raw.context);
    // Only messages are timed hop by hop; typing and membership events are not on that path.
    if (event.type === 'message' && typeof event.ts === 'string') this.o.recent.remember(channel, event);
    if (event.type === 'member_joined_channel' || event.type === 'member_left_channel') this.applyMembershipEvent(channel, event);
    const set = this.o.subscriptions.members(channel);
    const timing = event.type === 'message' ? messageReceived(raw, set?.size ?? 0) : undefined;
    if (set && set.size > 0) {
      // One push span per delivery, however many local members it reaches.
      const span = tracer.startSpan('gateway.push', { attributes: { 'rtm.channel': channel, 'rtm.event': event.type, 'rtm.recipients': set.size } }, trace.setSpan(raw.context, received));
      if (typeof event.ts === 'string') span.setAttribute('rtm.ts', event.ts);
      // Typing and membership events go to the others, not to the user they are about.
      const skipUser = event.type === 'user_typing' || event.type === 'member_joined_channel' ? (event.user as string) : undefined;
      // Encoded once for every local member, not once per socket.
      const frame = JSON.stringify(event);
      for (const s of set) if (s.user !== skipUser) this.o.catchUp.offer(s, channel, event, timing, frame);
      span.end();
    }
    received.end();
  }

  stats(): Record<string, number> {
    return { deliveries: this.deliveries };
  }

  /**
   * A membership change, in the channel's own order: a member who left gets nothing that was
   * sequenced after it; one who joined gets everything that was.
   */
  private applyMembershipEvent(channel: string, event: Event): void {
    for (const s of this.o.sessions.ofUser(event.user as string)) {
      if (event.type === 'member_left_channel' && s.channels.has(channel)) this.o.membership.leave(s, channel);
      else if (event.type === 'member_joined_channel' && !s.channels.has(channel)) this.o.membership.joinLive(s, channel);
    }
  }
}
