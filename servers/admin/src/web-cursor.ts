import { ArgError, type WebArgs } from './web-args.js';

/** An opaque Slack-style cursor holding a kind and a position. */
export function encodeCursor(kind: string, value: string | number): string {
  return Buffer.from(`${kind}:${value}`).toString('base64url');
}

/** The position of a cursor of this kind, or undefined for anything else. */
export function decodeCursor(cursor: string, kind: string): string | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return text.startsWith(`${kind}:`) ? text.slice(kind.length + 1) : undefined;
}

/** Offset pagination with Slack's cursor shape: `next_cursor` is empty on the last page. */
export function paginate<T>(all: T[], args: WebArgs, fallback: number): { items: T[]; next: string } {
  const limit = args.int('limit', { min: 1, max: 1000, fallback });
  const cursor = args.string('cursor');
  let start = 0;
  if (cursor) {
    const at = Number(decodeCursor(cursor, 'at'));
    if (!Number.isInteger(at) || at < 0) throw new ArgError('invalid_cursor');
    start = at;
  }
  const items = all.slice(start, start + limit);
  return { items, next: start + limit < all.length ? encodeCursor('at', start + limit) : '' };
}
