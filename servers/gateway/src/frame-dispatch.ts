import { ROOT_CONTEXT, SpanKind, propagation, trace, type Context } from '@opentelemetry/api';
import { RTM_ERROR, parseClientFrame, type Ack, type ClientFrame, type RtmError } from '@rtm/protocol';
import { RequestFailed, RequestNotSent, RequestTimeout } from '@rtm/rpc';
import type { Logger } from '@rtm/runtime';
import { preciseNow } from '@rtm/telemetry';
import type { DirectorySync } from './directory-sync.js';
import { countRtmError, recordAck } from './gateway-metrics.js';
import type { ChannelPort, DirectoryReader, PresencePort } from './ports.js';
import type { PostLimits } from './post-limits.js';
import type { PresenceWatch } from './presence-watch.js';
import type { Session, SessionTable } from './sessions.js';

const tracer = trace.getTracer('rtm-gateway');

/** Settings of {@link FrameDispatch}. */
export interface FrameDispatchOptions {
  sessions: SessionTable;
  link: ChannelPort;
  presence: PresencePort;
  presenceWatch: PresenceWatch;
  directory: DirectoryReader;
  directorySync: DirectorySync;
  /** Text length and posts awaiting their ack, per connection. */
  postLimits: PostLimits;
  log: Logger;
}

/** Turns client frames into commands for the channel and presence servers, and answers them. */
export class FrameDispatch {
  private readonly counters = { framesIn: 0, badFrames: 0, posts: 0 };

  constructor(private readonly o: FrameDispatchOptions) {}

  /** Handles one text frame from a client. Never throws: bad input becomes an error reply. */
  async onFrame(sessionId: string, raw: string): Promise<void> {
    const s = this.o.sessions.get(sessionId);
    if (!s) return;
    const frameAt = preciseNow();
    this.counters.framesIn++;
    const parsed = parseClientFrame(raw);
    if (!parsed.ok) {
      this.counters.badFrames++;
      this.replyError(s, parsed.replyTo, parsed.error);
      return;
    }
    try {
      await this.dispatch(s, parsed.frame, frameAt);
    } catch (err) {
      const id = 'id' in parsed.frame ? parsed.frame.id : undefined;
      const unanswered = unansweredError(err);
      if (unanswered) return this.replyError(s, id, unanswered);
      this.o.log.error('frame handling failed', { error: String(err) });
      this.replyError(s, id, { code: RTM_ERROR.internal, msg: 'internal error' });
    }
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  private async dispatch(s: Session, frame: ClientFrame, frameAt: number): Promise<void> {
    switch (frame.type) {
      case 'ping': {
        const { type: _t, id, ...extra } = frame as { type: 'ping'; id?: number | string; [k: string]: unknown };
        // The echoed fields go first: a ping's own `reply_to` must not stand in for the pong's.
        this.o.sessions.push(s, { ...extra, type: 'pong', ...(id !== undefined ? { reply_to: id } : {}) });
        return;
      }
      case 'message':
        return this.post(s, frame, frameAt);
      case 'typing': {
        const denied = this.checkChannel(s, frame.channel);
        if (denied) return this.replyError(s, frame.id, denied);
        await this.o.link.send({ type: 'typing', channel: frame.channel, user: s.user });
        return;
      }
      case 'presence_sub':
        await this.o.presenceWatch.watch(s, frame.ids);
        return;
      case 'presence_query': {
        await this.o.directorySync.knowUsers(frame.ids);
        const mine = frame.ids.filter((id) => this.o.directory.user(id)?.team === s.team);
        const states = await Promise.all(mine.map(async (user) => ({ user, state: await this.o.presence.query(user) })));
        for (const { user, state } of states) this.o.presenceWatch.pushChange(s, user, state.presence);
        return;
      }
    }
  }

  /** Posts a message and acks it; `frameAt` (epoch ms) is when its frame arrived, what the ack is timed from. */
  private async post(s: Session, frame: Extract<ClientFrame, { type: 'message' }>, frameAt: number): Promise<void> {
    // Past the limits nothing waits: the excess is answered at once.
    const denied = this.checkChannel(s, frame.channel) ?? this.o.postLimits.begin(s, frame.text);
    if (denied) {
      this.replyError(s, frame.id, denied);
      return recordAck(frameAt, denied.code);
    }
    this.counters.posts++;
    const span = tracer.startSpan('gateway.rtm.message', { kind: SpanKind.SERVER, attributes: { 'rtm.channel': frame.channel, 'rtm.user': s.user } }, clientContext(frame.traceparent));
    try {
      const threadTs = frame.thread_ts ? { thread_ts: frame.thread_ts } : {};
      const result = await this.o.link.post({ channel: frame.channel, team: s.team, user: s.user, text: frame.text, ...threadTs }, trace.setSpan(ROOT_CONTEXT, span));
      span.setAttribute('rtm.ts', result.ts);
      this.o.sessions.push(s, { ok: true, reply_to: frame.id, ts: result.ts, text: frame.text } satisfies Ack);
      recordAck(frameAt);
    } catch (err) {
      const error = unansweredError(err) ?? { code: RTM_ERROR.internal, msg: err instanceof RequestFailed ? err.code : 'post failed' };
      this.replyError(s, frame.id, error);
      recordAck(frameAt, error.code);
    } finally {
      this.o.postLimits.end(s);
      span.end();
    }
  }

  private checkChannel(s: Session, channel: string): RtmError | undefined {
    const c = this.o.directory.channel(channel);
    if (!c || c.team !== s.team || !this.o.directory.isMember(channel, s.user)) return { code: RTM_ERROR.channelNotFound, msg: 'channel_not_found' };
    if (c.is_archived) return { code: RTM_ERROR.isArchived, msg: 'is_archived' };
    return undefined;
  }

  private replyError(s: Session, replyTo: number | string | undefined, error: RtmError): void {
    countRtmError(error.code);
    if (replyTo === undefined) this.o.sessions.push(s, { type: 'error', error });
    else this.o.sessions.push(s, { ok: false, reply_to: replyTo, error } satisfies Ack);
  }
}

/**
 * RTM error 8 for a request the other side did not serve in time: no reply by the deadline, a
 * send a lost broker failed, or a channel server that reached the command after the deadline it
 * was given (`service_unavailable`, which comes back before this side's own timeout when the
 * command was reached in its last fifth). Undefined for any other failure.
 */
function unansweredError(err: unknown): RtmError | undefined {
  if (err instanceof RequestTimeout || err instanceof RequestNotSent || (err instanceof RequestFailed && err.code === 'service_unavailable')) {
    return { code: RTM_ERROR.timeout, msg: 'the server did not answer in time' };
  }
  return undefined;
}

/** A client may continue its own trace by sending `traceparent` in the frame. */
function clientContext(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}
