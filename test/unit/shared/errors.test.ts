// errorMessage: what logs and answers say about a failure, whatever was thrown.
import test from 'ava'
import { KimuraError, errorMessage } from '../../../src/shared/errors.js'

test('an Error gives its message, and anything else its text', t => {
  t.is(errorMessage(new KimuraError('ERR_SYNC', 'sync request failed')), 'sync request failed')
  t.is(errorMessage('plain text'), 'plain text')
  t.is(errorMessage(42), '42')
})

test('an Event that ended a stream names its type, or the error it carries, never "[object Event]"', t => {
  t.is(errorMessage(new Event('abort')), "an event of type 'abort'")
  const withError = Object.assign(new Event('close'), { error: new Error('stream reset by the remote') })
  t.is(errorMessage(withError), 'stream reset by the remote')
})
