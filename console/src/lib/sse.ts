/** One server-sent event: its `event:` name (`message` when absent) and its `data:` lines joined. */
export interface SseEvent {
  event: string;
  data: string;
}

/** More text than this without a blank line is not an event stream we can follow. */
const MAX_BUFFERED = 1 << 20;

/**
 * Splits a server-sent event stream into events as its text arrives, in chunks cut anywhere.
 * Comments (`: ...`), `retry:` and `id:` lines and events without data are dropped.
 */
export class SseParser {
  private buffer = '';
  private pendingCr = '';

  /** Takes the next piece of text; returns the events it completed. */
  push(text: string): SseEvent[] {
    // A CR ending a chunk may be half of a CRLF: it waits for the next chunk.
    let chunk = this.pendingCr + text;
    this.pendingCr = chunk.endsWith('\r') ? '\r' : '';
    if (this.pendingCr) chunk = chunk.slice(0, -1);
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    if (this.buffer.length > MAX_BUFFERED) throw new Error(`event stream: ${MAX_BUFFERED} characters without an event's end`);
    const out: SseEvent[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) out.push({ event, data: data.join('\n') });
    }
    return out;
  }
}
