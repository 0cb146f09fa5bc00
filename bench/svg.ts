/**
 * A horizontal bar chart as SVG text, with no dependencies: one bar per
 * labelled value, the value and an optional note written on the bar. Any
 * bench can use it (the end-to-end bench draws packets/s per mode with the
 * ratio to the kernel on each bar).
 *
 *   writeFileSync('chart.svg', barChart({ title: 'VXLAN encap', unit: 'Mpps', bars: [{ label: 'a', value: 15 }] }));
 */

export interface Bar {
  label: string;
  value: number;
  /** Extra text after the value, e.g. "0.85× kernel". */
  note?: string;
  /** Any CSS colour; the default is a blue, `highlight` a darker one. */
  color?: string;
  highlight?: boolean;
}

export interface BarChartOptions {
  title: string;
  /** A second, smaller line under the title (machine, date, command). */
  subtitle?: string;
  /** The unit of the values, shown on the axis: "packets/s". */
  unit: string;
  bars: readonly Bar[];
  /** Formats a value for the bar's text and the axis ticks; default: grouped thousands, 3 significant digits below 100. */
  format?: (value: number) => string;
  /** Width of the whole picture in pixels (default 880). */
  width?: number;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const BAR_HEIGHT = 26;
const BAR_GAP = 10;

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function defaultFormat(value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toString();
}

/** A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks up to max. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
}

/** Text width estimate (the SVG has no layout engine to ask): about 0.6 em per character at 13 px. */
function textWidth(text: string, size = 13): number {
  return text.length * size * 0.6;
}

export function barChart(options: BarChartOptions): string {
  const format = options.format ?? defaultFormat;
  const width = options.width ?? 880;
  const bars = options.bars;
  const labelWidth = Math.min(260, Math.max(60, ...bars.map((b) => textWidth(b.label))) + 16);
  const left = labelWidth;
  const right = 24;
  const top = options.subtitle ? 62 : 44;
  const plotWidth = width - left - right;
  const plotHeight = bars.length * (BAR_HEIGHT + BAR_GAP) + BAR_GAP;
  const height = top + plotHeight + 40;
  const finite = bars.map((b) => (Number.isFinite(b.value) && b.value > 0 ? b.value : 0));
  const max = Math.max(...finite, 0);
  const step = max > 0 ? tickStep(max, 5) : 1;
  const axisMax = max > 0 ? Math.ceil(max / step) * step : 1;
  const x = (value: number): number => left + (value / axisMax) * plotWidth;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="13">`);
  out.push(`<title>${escapeXml(options.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="24" font-size="16" font-weight="600" fill="#111">${escapeXml(options.title)}</text>`);
  if (options.subtitle) out.push(`<text x="${left}" y="44" font-size="12" fill="#555">${escapeXml(options.subtitle)}</text>`);

  // Grid lines and ticks.
  for (let tick = 0; tick <= axisMax + step / 2; tick += step) {
    const tx = x(tick).toFixed(1);
    out.push(`<line x1="${tx}" y1="${top}" x2="${tx}" y2="${top + plotHeight}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${tx}" y="${top + plotHeight + 16}" font-size="11" fill="#555" text-anchor="middle">${escapeXml(format(tick))}</text>`);
  }
  out.push(`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 34}" font-size="12" fill="#333" text-anchor="middle">${escapeXml(options.unit)}</text>`);

  bars.forEach((bar, index) => {
    const y = top + BAR_GAP + index * (BAR_HEIGHT + BAR_GAP);
    const value = finite[index]!;
    const barWidth = Math.max(0, x(value) - left);
    const color = bar.color ?? (bar.highlight ? '#1f4e99' : '#4a7fd4');
    const text = `${format(bar.value)}${bar.note ? ` · ${bar.note}` : ''}`;
    out.push(`<text x="${left - 8}" y="${y + BAR_HEIGHT / 2 + 4.5}" text-anchor="end" fill="#111">${escapeXml(bar.label)}</text>`);
    out.push(`<rect x="${left}" y="${y}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT}" fill="${escapeXml(color)}" rx="2"/>`);
    // The text goes inside the bar when it fits, else just after it.
    const inside = textWidth(text, 12) + 16 < barWidth;
    const textX = inside ? left + barWidth - 8 : left + barWidth + 6;
    out.push(
      `<text x="${textX.toFixed(1)}" y="${y + BAR_HEIGHT / 2 + 4}" font-size="12" text-anchor="${inside ? 'end' : 'start'}" fill="${inside ? '#fff' : '#111'}">${escapeXml(text)}</text>`,
    );
  });
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}" stroke="#333"/>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
