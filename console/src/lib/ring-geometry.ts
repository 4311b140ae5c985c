/**
 * The consistent-hash ring laid out as a circle: positions (0 .. 2^32-1, as
 * `packages/charm/src/hash-ring.ts` computes them) become angles clockwise from the top. A key
 * belongs to the first virtual node at or after its position, so each vnode owns the arc from
 * the vnode before it up to itself.
 */
import type { RingView } from '@rtm/protocol';

/** Number of positions on the ring. */
export const RING_SIZE = 2 ** 32;

export interface Point {
  x: number;
  y: number;
}

/** The circle drawn: centre and radius in SVG units. */
export interface Circle {
  cx: number;
  cy: number;
  r: number;
}

/** Angle in radians of a ring position: 0 at the top, growing clockwise. */
export function angleOf(position: number): number {
  return (position / RING_SIZE) * 2 * Math.PI;
}

/** Where a ring position sits on a circle of radius `r` (SVG: y grows downward). */
export function pointAt(position: number, c: Circle, r = c.r): Point {
  const a = angleOf(position);
  return { x: round(c.cx + r * Math.sin(a)), y: round(c.cy - r * Math.cos(a)) };
}

/** An SVG path of the arc from position `from` clockwise to `to` (a whole circle when they are equal). */
export function arcPath(from: number, to: number, c: Circle): string {
  const span = (((to - from) % RING_SIZE) + RING_SIZE) % RING_SIZE || RING_SIZE;
  if (span === RING_SIZE) {
    // SVG cannot draw a full circle as one arc: two halves.
    const top = pointAt(0, c);
    const bottom = pointAt(RING_SIZE / 2, c);
    return `M ${top.x} ${top.y} A ${c.r} ${c.r} 0 1 1 ${bottom.x} ${bottom.y} A ${c.r} ${c.r} 0 1 1 ${top.x} ${top.y}`;
  }
  const a = pointAt(from, c);
  const b = pointAt(to, c);
  const large = span > RING_SIZE / 2 ? 1 : 0;
  return `M ${a.x} ${a.y} A ${c.r} ${c.r} 0 ${large} 1 ${b.x} ${b.y}`;
}

/** An arc of the ring owned by one member: from the vnode before (exclusive) to its vnode. */
export interface RingArc {
  member: string;
  from: number;
  to: number;
  d: string;
}

/**
 * The arcs each member owns, merged where consecutive vnodes belong to the same member (fewer
 * paths to draw). Ties in position are broken by member name, as the ring itself does.
 */
export function ringArcs(view: RingView, c: Circle): RingArc[] {
  const points = view.members.flatMap((m) => m.points.map((position) => ({ position, member: m.id })));
  points.sort((a, b) => a.position - b.position || a.member.localeCompare(b.member));
  if (points.length === 0) return [];
  const arcs: Array<Omit<RingArc, 'd'>> = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const prev = points[(i - 1 + points.length) % points.length]!;
    const last = arcs[arcs.length - 1];
    if (last && last.member === p.member) last.to = p.position;
    else arcs.push({ member: p.member, from: prev.position, to: p.position });
  }
  // The first and last arcs meet at the top of the circle: one arc when they have one owner.
  if (arcs.length > 1 && arcs[0]!.member === arcs[arcs.length - 1]!.member) {
    arcs[0]!.from = arcs.pop()!.from;
  }
  return arcs.map((a) => ({ ...a, d: arcPath(a.from, a.to, c) }));
}

/** What changed between two rings: who joined or left, and which partitions changed owner. */
export interface RingChange {
  joined: string[];
  left: string[];
  moved: Array<{ partition: number; from: string; to: string }>;
}

/** What changed from `prev` to `next`; nothing when there is no ring before. */
export function ringChange(prev: RingView | undefined, next: RingView): RingChange {
  if (!prev) return { joined: [], left: [], moved: [] };
  const before = new Set(prev.members.map((m) => m.id));
  const after = new Set(next.members.map((m) => m.id));
  const owners = new Map(prev.partitions.map((p) => [p.partition, p.owner]));
  return {
    joined: [...after].filter((m) => !before.has(m)),
    left: [...before].filter((m) => !after.has(m)),
    moved: next.partitions.flatMap((p) => {
      const from = owners.get(p.partition);
      return from !== undefined && from !== p.owner ? [{ partition: p.partition, from, to: p.owner }] : [];
    }),
  };
}

/** Distinct colours for up to ten members; more reuse them. */
export const MEMBER_PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/**
 * A colour per member that stays with it across rings: members already coloured keep theirs,
 * a new member takes the first colour nobody present has. Returns the new assignment.
 */
export function memberColors(members: readonly string[], previous: ReadonlyMap<string, string> = new Map()): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of members) {
    const c = previous.get(m);
    if (c) out.set(m, c);
  }
  for (const m of [...members].sort()) {
    if (out.has(m)) continue;
    const used = new Set(out.values());
    out.set(m, MEMBER_PALETTE.find((c) => !used.has(c)) ?? MEMBER_PALETTE[out.size % MEMBER_PALETTE.length]!);
  }
  return out;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
