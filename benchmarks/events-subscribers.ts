// The subscribers of the event-stream benchmark (events.bench.ts), in their own process so
// that reading them costs the benchmark's process nothing. Commanded over IPC:
// { open: { urls, perUrl } } opens perUrl live streams on each node, { close: true } closes
// them all, { report: true } answers with what they received since the last report.
import { request, type IncomingMessage } from 'node:http'

interface Command { open?: { urls: string[], perUrl: number }, close?: boolean, report?: boolean }

const streams = new Set<IncomingMessage>()
let records = 0
let bytes = 0
let failures = 0
/** Arrival minus block timestamp, ms, from one fully parsed stream per node. */
let lags: number[] = []

function open (url: string, parse: boolean): void {
  const req = request(`${url}/v1/events`, { agent: false, headers: { accept: 'text/event-stream' } }, res => {
    if (res.statusCode !== 200) {
      failures++
      res.resume()
      return
    }
    streams.add(res)
    res.setEncoding('utf8')
    let rest = ''
    res.on('data', (chunk: string) => {
      bytes += chunk.length
      // Counting records is all most subscribers do; one per node reads the blocks.
      for (let at = chunk.indexOf('event: block'); at >= 0; at = chunk.indexOf('event: block', at + 1)) records++
      if (!parse) return
      const parts = (rest + chunk).split('\n\n')
      rest = parts.pop() ?? ''
      for (const part of parts) {
        const data = part.split('\n').find(line => line.startsWith('data: '))
        if (data === undefined) continue
        const block = JSON.parse(data.slice(6)) as { header: { timestamp: number } }
        lags.push(Date.now() - block.header.timestamp)
      }
    })
    res.on('close', () => { streams.delete(res) })
  })
  req.on('error', () => { failures++ })
  req.end()
}

process.on('message', (command: Command) => {
  if (command.open !== undefined) {
    for (const url of command.open.urls) for (let i = 0; i < command.open.perUrl; i++) open(url, i === 0)
    process.send?.({ opened: true })
  } else if (command.close === true) {
    for (const s of streams) s.destroy()
    streams.clear()
    process.send?.({ closed: true })
  } else if (command.report === true) {
    process.send?.({ streams: streams.size, records, bytes, failures, lags, cpuMs: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 })
    records = 0
    bytes = 0
    lags = []
  }
})
