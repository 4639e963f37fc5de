/**
 * Server-Sent Events as they arrive in chunks: `push` takes the next chunk of text and
 * returns the `data` of every event it completed. Comments (`: heartbeat`) and events
 * without data are skipped; several `data` lines of one event are joined with newlines,
 * as the SSE specification says.
 */
export class EventStreamParser {
  private buffered = '';

  push(chunk: string): string[] {
    this.buffered += chunk.replace(/\r\n?/g, '\n');
    const out: string[] = [];
    for (let end = this.buffered.indexOf('\n\n'); end >= 0; end = this.buffered.indexOf('\n\n')) {
      const block = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line === 'data' || line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''));
      if (data.length > 0) out.push(data.join('\n'));
    }
    return out;
  }
}
