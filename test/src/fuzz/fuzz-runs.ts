import type { TestCluster } from '../harness.js';
import type { FuzzWorld } from './fuzz-world.js';
import { FuzzSocket, frameProblems, leakedFrames, runOnSocket, unitsOf, upgradeUrl } from './rtm-driver.js';
import type { RtmCase, RtmFrameCase, RtmUpgradeCase } from './rtm-frames.js';
import { webExpectationProblem, type HttpAnswer } from './slack-shape.js';
import { forgeToken } from './forged-tokens.js';
import type { WebCase } from './web-api-calls.js';
import { WebDriver, breaksHttp, placeToken } from './web-driver.js';

/** What a run found: problems (each a failed assertion), and tallies for the report. */
export interface RunReport {
  problems: string[];
  /** Cases per class. */
  cases: Record<string, number>;
  /** Answers per class and outcome (`ok`, an error code, `HTTP 404`, a close code...). */
  outcomes: Record<string, Record<string, number>>;
  /** Cases per bug of {@link REPORTED_ELSEWHERE} they ran into. */
  reported: Record<string, number>;
  ms: number;
}

/**
 * Bugs this suite found whose fix belongs to files other changes own: each is reported (see
 * docs/hostile-input.md), counted in the run's report, and does not fail the run. Every other
 * `internal_error` does.
 */
export const REPORTED_ELSEWHERE: ReadonlyArray<{ issue: string; matches: (c: WebCase) => boolean }> = [
  // Empty: the two this suite found (body-parser refusals and an unchecked chat.postMessage
  // thread_ts answered internal_error) are fixed, and now fail the run if they come back.
];

/** Consecutive lists of `size` items (the last may be shorter): a long run in bounded memory. */
export function* batches<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Adds `more` into `into`: problems, tallies and time. */
export function mergeReport(into: RunReport, more: RunReport): void {
  into.problems.push(...more.problems);
  into.ms += more.ms;
  for (const [cls, n] of Object.entries(more.cases)) into.cases[cls] = (into.cases[cls] ?? 0) + n;
  for (const [cls, outcomes] of Object.entries(more.outcomes)) {
    const o = (into.outcomes[cls] ??= {});
    for (const [k, n] of Object.entries(outcomes)) o[k] = (o[k] ?? 0) + n;
  }
  for (const [issue, n] of Object.entries(more.reported)) into.reported[issue] = (into.reported[issue] ?? 0) + n;
}

/** An empty report. */
export function emptyReport(): RunReport {
  return { problems: [], cases: {}, outcomes: {}, reported: {}, ms: 0 };
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

function tally(report: RunReport, cls: string, outcome: string): void {
  report.cases[cls] = (report.cases[cls] ?? 0) + 1;
  const o = (report.outcomes[cls] ??= {});
  o[outcome] = (o[outcome] ?? 0) + 1;
}

function outcomeOf(a: HttpAnswer): string {
  if ('closed' in a) return 'closed';
  if (a.status !== 200) return `HTTP ${a.status}`;
  try {
    const j = JSON.parse(a.body.toString('utf8')) as { ok?: boolean; error?: string };
    return j.ok === true ? 'ok' : String(j.error);
  } catch {
    return 'not JSON';
  }
}

/** Sends every Web API case at bounded concurrency and checks each answer's shape and content. */
export async function runWebCases(t: TestCluster, world: FuzzWorld, cases: readonly WebCase[], concurrency: number): Promise<RunReport> {
  const started = Date.now();
  const report = emptyReport();
  const admin = new URL(t.info.webApi);
  const driver = new WebDriver(admin.hostname, Number(admin.port), concurrency);
  const turn = new Map<string, number>();
  const secrets = [t.info.operatorToken, world.marker];
  const pooled = (method: string) => {
    const n = turn.get(method) ?? 0;
    turn.set(method, n + 1);
    return world.webTokens[n % world.webTokens.length]!;
  };
  const tokenOf = (c: WebCase): string | undefined => {
    const ref = c.token;
    switch (ref.from) {
      case 'pool':
        return pooled(c.method ?? c.path);
      case 'sacrificial':
        // Spent for good: a later batch must not be handed a token this one revoked.
        return world.sacrificialTokens.pop() ?? 'xoxp-no-sacrificial-token-left';
      case 'revoked':
        return world.revokedToken;
      case 'none':
        return undefined;
      case 'literal':
        return ref.value;
      case 'forged':
        return forgeToken(pooled(c.method ?? c.path), ref.how, ref.at, { team: world.foreignTeam, user: world.webTargets.foreignUser });
    }
  };
  try {
    await forEachLimited(cases, concurrency, async (c) => {
      const req = placeToken(c, tokenOf(c));
      const answer = await driver.send(req, { rawSocket: c.rawSocket === true, abort: c.abort === true });
      tally(report, c.class, outcomeOf(answer));
      const what = `${c.class} ${req.verb} ${req.path.slice(0, 100)}`;
      if (!c.abort) {
        const problem = webExpectationProblem(answer, breaksHttp(req) ? 'either' : c.expect);
        if (problem) report.problems.push(`${what}: ${problem} (body ${req.body?.toString('utf8', 0, 150)})`);
      }
      if ('body' in answer) {
        const text = answer.body.toString('utf8');
        for (const s of secrets) if (text.includes(s)) report.problems.push(`${what}: the answer holds ${s === world.marker ? 'the marker' : 'the operator token'}`);
        if (outcomeOf(answer) === 'internal_error') {
          const known = REPORTED_ELSEWHERE.find((k) => k.matches(c));
          if (known) report.reported[known.issue] = (report.reported[known.issue] ?? 0) + 1;
          else report.problems.push(`${what}: internal_error (body ${req.body?.toString('utf8', 0, 150)})`);
        }
      }
    });
  } finally {
    driver.close();
  }
  report.ms = Date.now() - started;
  return report;
}

/** Share of a connection's cases that may be answered "too slow" before the run fails: a loaded machine, not a bug. */
const SLOW_SHARE = 0.02;

/** Counts a connection's timeouts, and fails the run when they are more than a loaded machine explains. */
function noteSlow(report: RunReport, label: string, slow: number, cases: number): void {
  if (slow === 0) return;
  const issue = 'timeouts of the channel or presence servers (RTM code 8; code 10 for a typing frame whose publish failed)';
  report.reported[issue] = (report.reported[issue] ?? 0) + slow;
  if (slow > cases * SLOW_SHARE) report.problems.push(`${label}: ${slow} of ${cases} frames timed out`);
}

/**
 * A fresh `rtm.connect` URL, each from the next token in turn (tier 3 allows 50 a minute per
 * token); a rate-limited call moves on to the next token after a pause.
 */
export function connectUrls(t: TestCluster, tokens: readonly string[]): () => Promise<string> {
  let n = 0;
  return async () => {
    for (let attempt = 0; ; attempt++) {
      const r = await t.web(tokens[n++ % tokens.length]!, 'rtm.connect');
      if (r.ok) return r.url as string;
      if (r.error !== 'ratelimited' || attempt >= 20) throw new Error(`rtm.connect: ${JSON.stringify(r)}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  };
}

/** An open fuzz socket past its `hello`. */
export async function openSocket(url: string): Promise<FuzzSocket> {
  const s = new FuzzSocket(url);
  await s.opened;
  await s.until('hello', () => s.frames.some((f) => f.includes('"type":"hello"')), 15_000);
  return s;
}

/**
 * Sends every RTM case: most on a few long-lived connections (in chunks, each followed by a
 * barrier ping), those that may end a connection each on one of its own, upgrades each
 * as a new connection. Checks every frame that comes back, and that none leaks.
 */
export async function runRtmCases(t: TestCluster, world: FuzzWorld, cases: readonly RtmCase[], sockets: number): Promise<RunReport> {
  const started = Date.now();
  const report = emptyReport();
  const nextUrl = connectUrls(t, world.rtmTokens);
  const hidden = new Set([world.privateChannel, world.rtmTargets.foreignChannel]);
  const checkLeaks = (label: string, s: FuzzSocket) => {
    for (const f of leakedFrames(s.frames, [world.marker], hidden)) report.problems.push(`${label}: leaked ${f}`);
  };
  const frames = cases.filter((c): c is RtmFrameCase => c.class !== 'upgrade');
  const shared = frames.filter((c) => !c.ownConnection);
  const units = unitsOf(shared, 40);
  const open = await Promise.all(Array.from({ length: sockets }, async () => openSocket(await nextUrl())));
  try {
    await Promise.all(
      open.map(async (s, i) => {
        const mine = units.filter((_, u) => u % sockets === i);
        const barriers = await runOnSocket(s, mine, `socket-${i}`);
        const sent = mine.flat();
        for (const c of sent) tally(report, c.class, 'sent');
        const verdict = frameProblems(sent, s.frames, barriers);
        for (const p of verdict.problems) report.problems.push(`socket-${i}: ${p}`);
        noteSlow(report, `socket-${i}`, verdict.slow, sent.length);
        if (s.closed) report.problems.push(`socket-${i} closed: ${s.closed.code} ${s.closed.reason}`);
        checkLeaks(`socket-${i}`, s);
      }),
    );
  } finally {
    for (const s of open) s.close();
  }
  await forEachLimited(
    frames.filter((c) => c.ownConnection),
    4,
    async (c) => {
      const s = await openSocket(await nextUrl());
      try {
        s.send(c.frame);
        const closed = await s.until('the close', () => s.closed, 15_000).catch(() => undefined);
        tally(report, c.class, closed ? `close ${closed.code}` : 'open');
        if ('close' in c.expect && !(closed && c.expect.close.includes(closed.code))) report.problems.push(`${c.class}: closed ${JSON.stringify(closed)}, expected ${c.expect.close.join(' or ')}`);
        for (const p of frameProblems([], s.frames.filter((f) => !f.includes('"type":"hello"')), new Set()).problems) report.problems.push(`${c.class} (own connection): ${p}`);
        checkLeaks(c.class, s);
      } finally {
        s.close();
      }
    },
  );
  const upgrades = cases.filter((c): c is RtmUpgradeCase => c.class === 'upgrade');
  await forEachLimited(upgrades, 4, async (c) => {
    const outcome = await runUpgrade(c, await nextUrl(), checkLeaks);
    tally(report, c.class, outcome.seen);
    if (outcome.problem) report.problems.push(`upgrade ${c.path} ${JSON.stringify(c.ticket).slice(0, 80)} since=${c.since?.slice(0, 80)}: ${outcome.problem}`);
  });
  report.ms = Date.now() - started;
  return report;
}

/** One upgrade case: the URL built from a genuine one, connected, and its outcome checked. */
async function runUpgrade(c: RtmUpgradeCase, genuine: string, checkLeaks: (label: string, s: FuzzSocket) => void): Promise<{ seen: string; problem?: string }> {
  const first = c.ticket.from === 'reused' ? await openSocket(genuine) : undefined;
  const s = new FuzzSocket(upgradeUrl(c, genuine));
  try {
    const opened = await s.opened.then(
      () => true,
      () => false,
    );
    if (!opened) return { seen: `HTTP ${s.httpStatus}`, ...(c.expect === 'http' ? {} : { problem: `no websocket (HTTP ${s.httpStatus})` }) };
    if (c.expect === 'http') return { seen: 'open', problem: 'a websocket on a path that has none' };
    const result = await s.until('hello or close', () => s.closed ?? s.events().find((e) => e.type === 'hello'), 15_000).catch(() => undefined);
    checkLeaks('upgrade', s);
    const errors = s.events().filter((e) => e.type === 'error');
    if (c.expect === 'hello') {
      // A catch-up follows hello: a ping answered after it shows whether `since` leaked anything.
      s.send({ kind: 'text', text: '{"type":"ping","id":"after-hello"}' });
      await s.until('the pong after hello', () => s.frames.some((f) => f.includes('"reply_to":"after-hello"')), 15_000).catch(() => undefined);
      checkLeaks('upgrade', s);
      return result && 'type' in result ? { seen: 'hello' } : { seen: JSON.stringify(result), problem: `no hello: ${JSON.stringify(result)} ${s.frames.join(' ').slice(0, 200)}` };
    }
    const closed = s.closed;
    if (!closed) return { seen: 'open', problem: `not refused: ${s.frames.join(' ').slice(0, 200)}` };
    if (closed.code !== c.expect) return { seen: `close ${closed.code}`, problem: `closed with ${closed.code}, expected ${c.expect}` };
    if (errors.length !== 1 || errors[0]!.error?.code !== c.expect) return { seen: `close ${closed.code}`, problem: `error events before the close: ${JSON.stringify(errors)}` };
    return { seen: `close ${closed.code}` };
  } finally {
    s.close();
    first?.close();
  }
}
