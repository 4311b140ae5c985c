import { SpanKind, trace } from '@opentelemetry/api';
import { InboxRecord, ReplyRecord, type DeliverRecord, type HandoffRequest, type PresenceDeliverRecord, type RollCallRequest } from '@rtm/protocol';
import { Requester, type RequesterOptions } from './requester.js';
import { replyRecord, type ReplyOutcome } from './reply.js';
import { inboxTopic, processAttributes, type Bus, type InRecord, type Subscription } from '@rtm/bus';
import type { Logger } from '@rtm/runtime';

const tracer = trace.getTracer('rtm-rpc');

/** What an inbox does with records that are not replies. */
export interface InboxHandlers {
  deliver?(record: DeliverRecord, raw: InRecord): void;
  presence?(record: PresenceDeliverRecord, raw: InRecord): void;
  /** Another gateway's handoff; its reply goes back with {@link Inbox.reply}. */
  handoff?(record: HandoffRequest, raw: InRecord): void;
  /** A presence server asks this gateway for its whole roll call of a partition. */
  rollCall?(record: RollCallRequest, raw: InRecord): void;
}

/**
 * This instance's inbox topic: replies go to the {@link Requester}, deliveries and presence
 * changes to the handlers. Reads only what arrives after start.
 */
export class Inbox {
  readonly topic: string;
  readonly requester: Requester;
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: Bus,
    instanceId: string,
    private readonly log: Logger,
    private readonly handlers: InboxHandlers = {},
    requesterOptions: RequesterOptions = {},
  ) {
    this.topic = inboxTopic(instanceId).name;
    this.requester = new Requester(this.topic, requesterOptions);
  }

  async start(instanceId: string): Promise<void> {
    await this.bus.ensureTopics([inboxTopic(instanceId)]);
    this.subscription = await this.bus.follow({
      topics: [this.topic],
      from: 'end',
      onRecords: (records) => {
        for (const r of records) this.route(r);
      },
    });
  }

  private route(raw: InRecord): void {
    const parsed = InboxRecord.safeParse(raw.value);
    if (!parsed.success) {
      this.log.warn('inbox: record skipped', { offset: raw.offset, issue: parsed.error.issues[0]?.message });
      return;
    }
    const rec = parsed.data;
    if (rec.type === 'reply') this.settle(rec as ReplyRecord, raw);
    else if (rec.type === 'presence') this.handlers.presence?.(rec, raw);
    else if (rec.type === 'handoff') this.handlers.handoff?.(rec, raw);
    else if (rec.type === 'roll_call') this.handlers.rollCall?.(rec, raw);
    else this.handlers.deliver?.(rec, raw);
  }

  /**
   * A reply's receipt, as a `rpc.reply` span in the trace of the request (the record carries
   * the answering span's context): the requester's wait ends inside it.
   */
  private settle(reply: ReplyRecord, raw: InRecord): void {
    const span = tracer.startSpan(
      'rpc.reply',
      {
        kind: SpanKind.CONSUMER,
        attributes: { ...processAttributes(raw), 'rtm.reply.ok': reply.ok },
      },
      raw.context,
    );
    if (!this.requester.settle(reply)) span.setAttribute('rtm.reply.expected', false);
    span.end();
  }

  /** Answers a request another instance sent here. */
  async reply(to: { inbox: string; corr: string }, outcome: ReplyOutcome): Promise<void> {
    await this.bus.publish([replyRecord(to, outcome)]);
  }

  async stop(): Promise<void> {
    this.requester.cancelAll('shutting down');
    await this.subscription?.stop();
  }
}
