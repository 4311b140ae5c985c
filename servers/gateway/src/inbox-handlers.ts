import type { DeliverRecord, HandoffRequest, PresenceDeliverRecord, RollCallRequest } from '@rtm/protocol';
import type { InRecord } from '@rtm/bus';
import type { InboxHandlers } from '@rtm/rpc';
import type { Logger } from '@rtm/runtime';

/** The part of the gateway that inbox records go to. */
export interface InboxGateway {
  deliver(record: DeliverRecord, raw: InRecord): void;
  onPresence(user: string, presence: 'active' | 'away'): void;
  wantRollCall(partition: number): void;
  acceptHandoff(channels: string[]): Promise<void>;
}

/** What the gateway's inbox records are for. */
export interface InboxTargets {
  gateway: InboxGateway;
  /** Whether this gateway takes clients over now (a draining or stopping one does not). */
  accepting(): boolean;
  /** Answers a request another instance sent here. */
  reply(to: { inbox: string; corr: string }, outcome: { ok: true; result: unknown } | { ok: false; error: string }): Promise<void>;
}

/**
 * The gateway's inbox handlers. The inbox must exist before the gateway (the gateway's links
 * send through its requester), so the handlers are bound to their targets afterwards, before
 * the inbox starts reading.
 */
export class GatewayInboxHandlers implements InboxHandlers {
  private targets: InboxTargets | undefined;

  constructor(private readonly log: Logger) {}

  /** Connects the handlers to what they serve; call before the inbox starts. */
  bind(targets: InboxTargets): void {
    this.targets = targets;
  }

  deliver(record: DeliverRecord, raw: InRecord): void {
    this.bound().gateway.deliver(record, raw);
  }

  presence(record: PresenceDeliverRecord): void {
    this.bound().gateway.onPresence(record.user, record.presence);
  }

  rollCall(record: RollCallRequest): void {
    this.bound().gateway.wantRollCall(record.partition);
  }

  /** Another gateway's handoff: accepted unless this one is draining or stopping (the sender picks another). */
  handoff(record: HandoffRequest): void {
    const t = this.bound();
    const taken = t.accepting() ? t.gateway.acceptHandoff(record.channels) : Promise.reject(new Error('not_serving'));
    void taken
      .then(
        () => t.reply(record.reply, { ok: true, result: { channels: record.channels.length } }),
        (err: unknown) => t.reply(record.reply, { ok: false, error: err instanceof Error ? err.message : 'handoff_failed' }),
      )
      .catch((err: unknown) => this.log.warn('handoff reply failed', { error: String(err) }));
  }

  private bound(): InboxTargets {
    if (!this.targets) throw new Error('inbox handlers used before bind()');
    return this.targets;
  }
}
