// The event-stream parser: the WHATWG rules for lines, fields, comments and dispatch, with the
// stream cut into chunks at every possible place.
import test from 'ava'
import { SseParser, type SseEvent } from '../../../src/client/index.js'

/** Parses `text` fed in pieces cut at `cuts`. */
function parse (text: string, cuts: number[] = []): { events: SseEvent[], parser: SseParser } {
  const parser = new SseParser()
  const events: SseEvent[] = []
  let at = 0
  for (const cut of [...cuts, text.length]) {
    events.push(...parser.push(text.slice(at, cut)))
    at = cut
  }
  return { events, parser }
}

const STREAM = ': hello\n\nid: 1\nevent: block\ndata: {"a":1}\n\n: keep-alive\n\nid: 2\nevent: block\ndata: {"a":2}\n\n'
const EXPECTED: SseEvent[] = [
  { type: 'block', data: '{"a":1}', lastEventId: '1' },
  { type: 'block', data: '{"a":2}', lastEventId: '2' }
]

test('records, comments and blank lines', t => {
  t.deepEqual(parse(STREAM).events, EXPECTED)
})

test('the same events whatever the line ending (LF, CRLF, CR) and wherever the stream is cut', t => {
  for (const eol of ['\n', '\r\n', '\r']) {
    const text = STREAM.replace(/\n/g, eol)
    for (let cut = 0; cut <= text.length; cut++) t.deepEqual(parse(text, [cut]).events, EXPECTED, `${JSON.stringify(eol)} cut at ${cut}`)
    // One character at a time.
    t.deepEqual(parse(text, Array.from({ length: text.length }, (_, i) => i)).events, EXPECTED, `${JSON.stringify(eol)} byte by byte`)
  }
})

test('a CR at the end of one chunk and an LF at the start of the next are one line break', t => {
  t.deepEqual(parse('data: x\r\n\r\n', [8]).events, [{ type: 'message', data: 'x', lastEventId: '' }])
  t.deepEqual(parse('data: x\r\n\r\n', [8, 9, 10]).events, [{ type: 'message', data: 'x', lastEventId: '' }])
  // A lone CR then a CR: two line breaks, an empty line that dispatches.
  t.deepEqual(parse('data: y\r\r', [8]).events, [{ type: 'message', data: 'y', lastEventId: '' }])
})

test('fields: one leading space dropped, no colon, data lines joined, unknown fields ignored, id kept, retry', t => {
  const { events, parser } = parse('data:no space\ndata:  two\ndata\nfoo: bar\nevent:x\nid:7\n\ndata: next\nretry: 1500\nretry: soon\n\n')
  t.deepEqual(events, [
    { type: 'x', data: 'no space\n two\n', lastEventId: '7' },
    { type: 'message', data: 'next', lastEventId: '7' }
  ])
  t.is(parser.retryMs, 1500)
})

test('no data, no event; an event without its blank line is not dispatched', t => {
  t.deepEqual(parse('event: block\nid: 3\n\n').events, [])
  t.deepEqual(parse('id: 4\nevent: block\ndata: {}\n').events, [])
  t.is(parse('id: 4\n\n').parser.lastEventId, '4')
  t.is(parse('id: a\u0000b\n\n').parser.lastEventId, '', 'an id with NUL is ignored')
})

test('an endless line is refused, not held', t => {
  const parser = new SseParser(1000)
  t.throws(() => parser.push('data: ' + 'x'.repeat(2000)), { instanceOf: RangeError })
})
