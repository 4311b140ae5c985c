import { SpanKind, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { apiFail, apiOk, isTs, type WebApiResult } from '@rtm/protocol';
import { ArgError, textArg, tsArg } from './web-args.js';
import { WebMethodFamily, type AuthedCall, type WebMethods } from './web-method.js';

const tracer = trace.getTracer('rtm-admin');

/** `chat.*` and `reactions.*`: changes to messages, carried out by the channel's owner. */
export class ChatMethods extends WebMethodFamily {
  /** This family's methods by name. */
  override table(): WebMethods {
    return {
      'chat.postMessage': (c) => this.postMessage(c),
      'chat.update': (c) => this.updateMessage(c),
      'chat.delete': (c) => this.deleteMessage(c),
      'reactions.add': (c) => this.reaction(c, 'add'),
      'reactions.remove': (c) => this.reaction(c, 'remove'),
    };
  }

  private async postMessage({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const channel = this.channels.channelArg(args, auth);
    const text = textArg(args);
    if (channel.is_archived) return apiFail('is_archived');
    if (!this.view.isMember(channel.id, auth.user)) return apiFail('not_in_channel');
    // A root span: the Web API call starts the message's trace through the channel server.
    const span = tracer.startSpan('admin.chat.postMessage', { kind: SpanKind.SERVER, attributes: { 'rtm.channel': channel.id, 'rtm.user': auth.user } }, ROOT_CONTEXT);
    try {
      const threadTs = args.string('thread_ts');
      // Unchecked, a junk thread_ts rode along with every copy of the message (up to Kafka's record limit).
      if (threadTs && !isTs(threadTs)) throw new ArgError('invalid_arguments', 'thread_ts must be a ts like 1700000000.000100');
      const result = await this.o.link.post({ channel: channel.id, team: auth.team, user: auth.user, text, ...(threadTs ? { thread_ts: threadTs } : {}) }, trace.setSpan(ROOT_CONTEXT, span));
      span.setAttribute('rtm.ts', result.ts);
      return apiOk({ channel: channel.id, ts: result.ts, message: result.message });
    } finally {
      span.end();
    }
  }

  private async updateMessage({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const channel = this.channels.writableChannel(args, auth);
    const ts = tsArg(args, 'ts');
    const text = textArg(args);
    return apiOk(await this.o.link.change({ type: 'update', channel: channel.id, user: auth.user, ts, text }));
  }

  private async deleteMessage({ auth, args }: AuthedCall): Promise<WebApiResult> {
    const channel = this.channels.writableChannel(args, auth);
    const ts = tsArg(args, 'ts');
    return apiOk(await this.o.link.change({ type: 'delete', channel: channel.id, user: auth.user, ts }));
  }

  private async reaction({ auth, args }: AuthedCall, action: 'add' | 'remove'): Promise<WebApiResult> {
    const channel = this.channels.writableChannel(args, auth);
    const ts = tsArg(args, 'timestamp');
    const name = args.string('name')?.replace(/^:|:$/g, '');
    if (!name || !/^[a-z0-9_+'-]{1,100}$/.test(name)) return apiFail('invalid_name');
    await this.o.link.change({ type: 'reaction', channel: channel.id, user: auth.user, ts, name, action });
    return apiOk();
  }
}
