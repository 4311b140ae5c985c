import { metrics, type Attributes } from '@opentelemetry/api';
import type { InRecord } from '@rtm/bus';
import { RTM_ERROR } from '@rtm/protocol';
import { acceptedAt, counter, gauge, latencyHistogram, observedGauge, preciseNow, recordHop } from '@rtm/telemetry';

// The gateway's own instruments. Labels stay bounded (hop, error.type, source): never a
// channel, user or session id. Instruments are made on first use, so declaring them here at
// import time is safe; the observed ones are registered by the first Gateway built.

const deliveriesReceived = counter('rtm.deliveries.received', "Delivery records read from this gateway's inbox", '{delivery}');
/** Sessions open here: up at open, down at close. */
export const connections = gauge('rtm.gateway.connections', 'Client sessions open on this gateway', '{connection}');
/** Clients closed because they could not read fast enough. */
export const slowConsumerCloses = counter('rtm.gateway.slow_consumer_closes', 'Clients closed as slow consumers (too many unsent bytes)', '{connection}');
const limitCloses = counter('rtm.gateway.limit.closes', 'Connections the gateway closed because a client went past a limit, by reason', '{connection}');
const limitRefusals = counter('rtm.gateway.limit.refusals', 'Connections refused because a limit was reached, by reason', '{connection}');
const closesCut = counter('rtm.gateway.closes.cut', 'Closes the client did not complete in time (RTM_CLOSE_TIMEOUT_MS): the socket was cut', '{connection}');
const rtmErrors = counter('rtm.rtm.errors', 'RTM errors sent to clients, by error', '{error}');
const ackDuration = latencyHistogram('rtm.rtm.ack.duration', "From a client's `message` frame to its ack (ok or error)");
const catchUpDuration = latencyHistogram('rtm.catch_up.duration', 'Replay of what a session missed on a channel, held live events included');
const catchUpMessages = counter('rtm.catch_up.messages', 'Messages replayed to sessions catching up, by where they came from', '{message}');
const drainStepDuration = latencyHistogram('rtm.drain.step.duration', 'One drain step: from the handoff request to its clients told to move');
const drainMoved = counter('rtm.drain.moved', 'Clients a drain told to move to another gateway', '{connection}');

/**
 * When a message's delivery reached this gateway and when its post was accepted: what each
 * socket write of it is timed from. Made once per delivery, shared by all its recipients.
 */
export interface DeliveryTiming {
  /** Epoch ms, sub-millisecond precision. */
  readonly receivedAt: number;
  /** Epoch ms of the post's acceptance (`rtm-accepted-at`), when the record carries it. */
  readonly acceptedAt: number | undefined;
  /** Every how many writes of this delivery one is timed (see {@link TIMED_WRITES_PER_DELIVERY}). */
  readonly every: number;
  /** Writes of this delivery so far. */
  writes: number;
}

/**
 * At most this many socket writes of one delivery have their hops recorded, spread evenly
 * over the fan-out order (every write when fewer recipients). A record costs about 0.5 µs
 * in the SDK (it hashes the label set each time), so timing all 2,000 writes of a large
 * channel doubled the fan-out's CPU (loadtest/results/METRICS-COST.md); an even sample
 * keeps the percentiles and bounds the cost per delivery.
 */
export const TIMED_WRITES_PER_DELIVERY = 64;

/** Counts a delivery record read from the inbox. */
export function countDelivery(): void {
  deliveriesReceived.add(1);
}

/**
 * A message's delivery arrived: records `channel_to_gateway` from the record's CreateTime
 * (when the channel server wrote it, inside its transaction) and returns its timing.
 */
export function messageReceived(raw: InRecord, recipients = 1): DeliveryTiming {
  const receivedAt = preciseNow();
  // A record without a CreateTime (0 or -1) says nothing about the hop.
  if (raw.timestamp > 0) recordHop('channel_to_gateway', receivedAt - raw.timestamp);
  return { receivedAt, acceptedAt: acceptedAt(raw.headers), every: Math.max(1, Math.ceil(recipients / TIMED_WRITES_PER_DELIVERY)), writes: 0 };
}

/** Counts frames written to clients; read by an observable counter, so a push costs an increment. */
let pushes = 0;

/**
 * A frame was written to a client's socket; with the timing of the message it carried,
 * records `gateway_to_client` and `end_to_end` at this write.
 */
export function pushed(timing: DeliveryTiming | undefined): void {
  pushes++;
  if (!timing || timing.writes++ % timing.every !== 0) return;
  const now = preciseNow();
  recordHop('gateway_to_client', now - timing.receivedAt);
  if (timing.acceptedAt !== undefined) recordHop('end_to_end', now - timing.acceptedAt);
}

// One attribute object per RTM error code, built once: `error.type` is the code's name in
// Slack's style (`channel_not_found`), `_OTHER` (the semantic conventions' fallback) otherwise.
const OTHER_ERROR: Attributes = { 'error.type': '_OTHER' };
const ERROR_TYPES = new Map<number, Attributes>(Object.entries(RTM_ERROR).map(([name, code]) => [code, { 'error.type': name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) }]));
/** Admission refusals are named by their reason (`invalid_auth`, `invalid_since`): a closed set. */
const REFUSAL_TYPES = new Map<string, Attributes>();

/** Counts an RTM error sent to a client, by its code in {@link RTM_ERROR}. */
export function countRtmError(code: number): void {
  rtmErrors.add(1, ERROR_TYPES.get(code) ?? OTHER_ERROR);
}

/** Counts the error event sent before refusing a websocket upgrade, by its reason. */
export function countRefusal(reason: string): void {
  let attributes = REFUSAL_TYPES.get(reason);
  if (!attributes) REFUSAL_TYPES.set(reason, (attributes = { 'error.type': reason }));
  rtmErrors.add(1, attributes);
}

/** Why the gateway closed a connection on its own because a limit was reached. */
export type LimitClose = 'slow_consumer' | 'buffer_budget' | 'frame_too_large' | 'frames_before_hello';
/** Why the gateway refused a connection because a limit was reached. */
export type LimitRefusal = 'gateway_full' | 'too_many_connections' | 'handshake_timeout';
// Closed sets, their attribute objects built once.
const CLOSE_REASONS = new Map<LimitClose, Attributes>((['slow_consumer', 'buffer_budget', 'frame_too_large', 'frames_before_hello'] as const).map((r) => [r, { reason: r }]));
const REFUSAL_REASONS = new Map<LimitRefusal, Attributes>((['gateway_full', 'too_many_connections', 'handshake_timeout'] as const).map((r) => [r, { reason: r }]));

/** Counts a connection closed because its client went past a limit. */
export function countLimitClose(reason: LimitClose): void {
  limitCloses.add(1, CLOSE_REASONS.get(reason));
}

/** Counts a connection refused because a limit was reached. */
export function countLimitRefusal(reason: LimitRefusal): void {
  limitRefusals.add(1, REFUSAL_REASONS.get(reason));
}

/** Counts a close the client did not complete in time, so its socket was cut. */
export function countCut(): void {
  closesCut.add(1);
}

/** A `message` frame got its ack (an error one when `errorCode` is given). */
export function recordAck(frameAt: number, errorCode?: number): void {
  ackDuration.record((preciseNow() - frameAt) / 1000, errorCode === undefined ? undefined : (ERROR_TYPES.get(errorCode) ?? OTHER_ERROR));
}

/** Where a catch-up found what the session missed. */
export type CatchUpSource = 'recent' | 'history';
const SOURCES: Record<CatchUpSource, Attributes> = { recent: { source: 'recent' }, history: { source: 'history' } };

/** A catch-up that began at `startedAt` (epoch ms) is done, having replayed `messages`. */
export function recordCatchUp(source: CatchUpSource, startedAt: number, messages: number): void {
  catchUpDuration.record((preciseNow() - startedAt) / 1000, SOURCES[source]);
  catchUpMessages.add(messages, SOURCES[source]);
}

/** A drain step that asked for its handoff at `startedAt` (epoch ms) told `moved` clients to go. */
export function recordDrainStep(startedAt: number, moved: number): void {
  drainStepDuration.record((preciseNow() - startedAt) / 1000);
  drainMoved.add(moved);
}

/** What a gateway reports to the observed instruments. */
export interface ObservedGateway {
  /** Channels subscribed at their owners. */
  subscriptions(): number;
  /** Bytes queued for its clients and not yet written, as of its last sweep. */
  bufferedBytes(): number;
}

/** The gateways of this process (one, but tests build many). */
const observedSources = new Set<ObservedGateway>();
let observing = false;

/**
 * Starts the observed instruments (once per process, after boot) and adds a gateway's
 * figures to them; returns what takes it out again.
 */
export function observeGateway(source: ObservedGateway): () => void {
  if (!observing) {
    observing = true;
    const sum = (read: (g: ObservedGateway) => number) => {
      let n = 0;
      for (const g of observedSources) n += read(g);
      return n;
    };
    observedGauge('rtm.gateway.subscriptions', 'Channels this gateway is subscribed to at their owners', (r) => r.observe(sum((g) => g.subscriptions())), '{subscription}');
    observedGauge('rtm.gateway.buffered', 'Bytes queued for clients and not yet written to their sockets (last sweep)', (r) => r.observe(sum((g) => g.bufferedBytes())), 'By');
    const pushCounter = metrics.getMeter('rtm').createObservableCounter('rtm.gateway.pushes', { description: 'Frames written to client sockets', unit: '{frame}' });
    pushCounter.addCallback((r) => r.observe(pushes));
  }
  observedSources.add(source);
  return () => void observedSources.delete(source);
}
