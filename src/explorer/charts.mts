// Bar charts in plain SVG: one bar per block, the largest value and the mean written beside.
const SVG = 'http://www.w3.org/2000/svg'

export interface BarChartOptions {
  title: string
  /** A value as text, with its unit. */
  format: (value: number) => string
  /** The label of bar i, for its tooltip. */
  label: (index: number) => string
  id: string
}

function svg<K extends keyof SVGElementTagNameMap> (tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value))
  return node
}

export function barChart (values: readonly number[], options: BarChartOptions): HTMLElement {
  const figure = document.createElement('figure')
  figure.className = 'chart'
  figure.id = options.id
  const width = 400
  const height = 120
  const max = Math.max(1, ...values)
  const mean = values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length
  const caption = document.createElement('figcaption')
  caption.textContent = `${options.title}: mean ${options.format(mean)}, max ${options.format(Math.max(0, ...values))}`
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': caption.textContent, preserveAspectRatio: 'none' })
  const slot = width / Math.max(values.length, 1)
  values.forEach((value, i) => {
    const h = Math.max(value > 0 ? 1 : 0, (value / max) * (height - 4))
    const bar = svg('rect', { x: i * slot + slot * 0.1, y: height - h, width: Math.max(slot * 0.8, 0.5), height: h, class: 'bar' })
    const tip = svg('title', {})
    tip.textContent = `${options.label(i)}: ${options.format(value)}`
    bar.appendChild(tip)
    chart.appendChild(bar)
  })
  if (values.length > 0) chart.appendChild(svg('line', { x1: 0, x2: width, y1: height - (mean / max) * (height - 4), y2: height - (mean / max) * (height - 4), class: 'mean' }))
  figure.append(caption, chart)
  return figure
}
