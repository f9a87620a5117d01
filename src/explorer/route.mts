// The page's address: `#/`, `#/block/<height>`, `#/message/<id>`, each with an optional
// `?key=<hex>` (the pinned leader key); `#key=<hex>` alone is the home view with a key.

export type View =
  | { name: 'home' }
  | { name: 'block', height: number }
  | { name: 'message', id: string }
  | { name: 'unknown', path: string }

export interface Route {
  view: View
  key: string | undefined
}

export function parseRoute (hash: string): Route {
  let [path, query] = hash.replace(/^#/, '').split('?', 2) as [string, string | undefined]
  if (query === undefined && path.includes('=')) {
    query = path
    path = '/'
  }
  const key = new URLSearchParams(query ?? '').get('key') ?? undefined
  const parts = path.split('/').filter(p => p !== '')
  let view: View = { name: 'unknown', path }
  if (parts.length === 0) view = { name: 'home' }
  else if (parts[0] === 'block' && parts.length === 2 && /^\d{1,16}$/.test(parts[1])) view = { name: 'block', height: Number(parts[1]) }
  else if (parts[0] === 'message' && parts.length === 2 && /^[0-9a-fA-F]{64}$/.test(parts[1])) view = { name: 'message', id: parts[1].toLowerCase() }
  return { view, key: key === '' ? undefined : key }
}

export function formatRoute (view: View, key: string | undefined): string {
  const path = view.name === 'block' ? `/block/${view.height}` : view.name === 'message' ? `/message/${view.id}` : '/'
  return `#${path}${key === undefined ? '' : `?key=${key}`}`
}
