import { EventStreamParser } from './event-stream';

describe('EventStreamParser', () => {
  it('returns the data of each event completed, across chunk boundaries', () => {
    const parser = new EventStreamParser();
    expect(parser.push(': connected\n\nid: 1\nevent: anomaly\ndata: {"series":')).toEqual([]);
    expect(parser.push('"a"}\n\nid: 2\nevent: anomaly\ndata: {"series":"b"}\n')).toEqual(['{"series":"a"}']);
    expect(parser.push('\n: heartbeat\n\n')).toEqual(['{"series":"b"}']);
  });

  it('joins multi-line data and reads CRLF streams', () => {
    const parser = new EventStreamParser();
    expect(parser.push('data: one\r\ndata:two\r\n\r\nevent: ping\r\n\r\n')).toEqual(['one\ntwo']);
  });
});
