import { EventEmitter } from 'node:events';
import { type ServerResponse } from 'node:http';
import { type SseCloseReason, SseConnection } from './sse.connection';

/** The part of ServerResponse a connection uses, with a socket that takes writes until told not to. */
class FakeResponse extends EventEmitter {
  readonly frames: string[] = [];
  status = 0;
  headers: Record<string, string> = {};
  accepting = true;
  ended = false;
  destroyed = false;
  socket = { destroyed: false };

  writeHead(status: number, headers: Record<string, string>): this {
    this.status = status;
    this.headers = headers;
    return this;
  }

  write(frame: string): boolean {
    this.frames.push(frame);
    return this.accepting;
  }

  end(): this {
    this.ended = true;
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    this.socket.destroyed = true;
    this.emit('close');
    return this;
  }

  /** The socket emptied its buffer. */
  drain(): void {
    this.accepting = true;
    this.emit('drain');
  }
}

function connect(maxQueuedFrames = 3, heartbeatMs = 15_000) {
  const res = new FakeResponse();
  const closes: SseCloseReason[] = [];
  const connection = new SseConnection(res as unknown as ServerResponse, {
    heartbeatMs,
    maxQueuedFrames,
    onClose: (reason) => closes.push(reason),
  });
  return { res, connection, closes };
}

afterEach(() => {
  jest.useRealTimers();
});

describe('SseConnection', () => {
  it('answers with an event stream and writes id, event and data per event', () => {
    const { res, connection } = connect();
    connection.open();
    connection.send('abc', 'anomaly', '{"x":1}');

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.frames.slice(1)).toEqual(['id: abc\nevent: anomaly\ndata: {"x":1}\n\n']);
  });

  it('refuses a field holding a line break, which would forge fields', () => {
    const { res, connection } = connect();
    connection.open();
    expect(() => connection.send('a\nevent: other', 'anomaly', '{}')).toThrow(RangeError);
    expect(res.frames).toHaveLength(1);
  });

  it('sends a comment heartbeat at its interval', () => {
    jest.useFakeTimers();
    const { res, connection } = connect(3, 15_000);
    connection.open();
    jest.advanceTimersByTime(15_000);
    jest.advanceTimersByTime(15_000);
    expect(res.frames.filter((f) => f === ': heartbeat\n\n')).toHaveLength(2);
    connection.close();
    jest.advanceTimersByTime(60_000);
    expect(res.frames.filter((f) => f === ': heartbeat\n\n')).toHaveLength(2);
  });

  it('holds frames while the socket is full and sends them, in order, on drain', () => {
    const { res, connection, closes } = connect(3);
    connection.open();
    res.accepting = false;
    connection.send('1', 'anomaly', '1');
    connection.send('2', 'anomaly', '2');
    connection.send('3', 'anomaly', '3');
    expect(res.frames).toHaveLength(2);

    res.drain();
    expect(res.frames.slice(2)).toEqual([
      'id: 2\nevent: anomaly\ndata: 2\n\nid: 3\nevent: anomaly\ndata: 3\n\n',
    ]);
    connection.send('4', 'anomaly', '4');
    expect(res.frames).toHaveLength(4);
    expect(closes).toEqual([]);
  });

  it('disconnects a client that falls more than maxQueuedFrames behind', () => {
    const { res, connection, closes } = connect(3);
    connection.open();
    res.accepting = false;
    // The first is written (and refused more), three wait, the fifth is one too many.
    for (let i = 1; i <= 5; i++) connection.send(String(i), 'anomaly', String(i));

    expect(closes).toEqual(['overflow']);
    expect(res.destroyed).toBe(true);
    connection.send('6', 'anomaly', '6');
    expect(res.frames).toHaveLength(2);
  });

  it('reports a client that went away once, and writes nothing more', () => {
    const { res, connection, closes } = connect();
    connection.open();
    res.emit('close');
    res.emit('close');
    connection.send('1', 'anomaly', '1');
    expect(closes).toEqual(['client']);
    expect(res.frames).toHaveLength(1);
  });

  it('ends at once when the client was gone before the stream opened', () => {
    const { res, connection, closes } = connect();
    res.socket.destroyed = true;
    connection.open();
    expect(closes).toEqual(['client']);
    expect(res.status).toBe(0);
  });

  it('ends the response when the server closes it', () => {
    const { res, connection, closes } = connect();
    connection.open();
    connection.close();
    res.emit('close');
    expect(res.ended).toBe(true);
    expect(closes).toEqual(['server']);
  });
});
