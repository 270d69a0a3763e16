/**
 * Hand-written SVG bar charts (no dependencies): one chart is a title and one or more panels side by side;
 * a panel groups bars by category (PUT, GET, …), one bar per series (Arca, Swift), with its value above it,
 * an optional note under each category (the ratio) and optional horizontal lines (targets, limits).
 */

export interface Series {
  name: string;
  color: string;
  /** One value per category; null draws no bar. */
  values: ReadonlyArray<number | null>;
}

export interface Panel {
  title: string;
  /** Axis unit, e.g. `ops/s`. */
  unit: string;
  categories: readonly string[];
  series: readonly Series[];
  /** One note per category, printed under its label (e.g. `4.1×`). */
  notes?: ReadonlyArray<string>;
  /** Horizontal reference lines. */
  lines?: ReadonlyArray<{ value: number; label: string; color?: string }>;
}

export interface Chart {
  title: string;
  subtitle?: string;
  panels: readonly Panel[];
}

export const ARCA_COLOR = '#2b6cb0';
export const SWIFT_COLOR = '#c05621';

const PANEL_W = 340;
const PANEL_H = 260;
const PLOT_TOP = 40;
const PLOT_BOTTOM = 210;
const PLOT_LEFT = 54;
const PLOT_RIGHT = 12;
const HEADER = 54;
const LEGEND = 26;

/** Escapes text for SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A round axis maximum ≥ `max` (1, 2, 2.5 or 5 times a power of ten) and its tick step. */
export function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.25 };
  const raw = max / 4;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  return { top: step * Math.ceil(max / step - 1e-9), step };
}

/** Short number for labels: 1234 → `1.2k`, 12.5 → `12.5`, 0.0123 → `0.012`. */
export function shortNumber(x: number): string {
  const a = Math.abs(x);
  if (a >= 1e6) return `${+(x / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e4) return `${+(x / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return `${+x.toFixed(1)}`;
  if (a >= 1) return `${+x.toFixed(2)}`;
  return `${+x.toFixed(3)}`;
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(s)}</text>`;
}

function panelSvg(p: Panel, x0: number, y0: number): string {
  const out: string[] = [];
  const values = p.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const lineValues = (p.lines ?? []).map((l) => l.value);
  const { top, step } = niceScale(Math.max(0, ...values, ...lineValues) * 1.08);
  const plotW = PANEL_W - PLOT_LEFT - PLOT_RIGHT;
  const plotH = PLOT_BOTTOM - PLOT_TOP;
  const y = (v: number) => y0 + PLOT_BOTTOM - (v / top) * plotH;
  out.push(text(x0 + PANEL_W / 2, y0 + 20, p.title, 'text-anchor="middle" font-weight="bold"'));
  out.push(text(x0 + 8, y0 + PLOT_TOP - 12, p.unit, 'font-size="10" fill="#555"'));
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(`<line x1="${x0 + PLOT_LEFT}" x2="${x0 + PANEL_W - PLOT_RIGHT}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e2e2e2"/>`);
    out.push(text(x0 + PLOT_LEFT - 4, y(v) + 3, shortNumber(v), 'text-anchor="end" font-size="10" fill="#555"'));
  }
  const groupW = plotW / Math.max(1, p.categories.length);
  const barW = Math.min(34, (groupW * 0.8) / Math.max(1, p.series.length));
  p.categories.forEach((cat, ci) => {
    const gx = x0 + PLOT_LEFT + ci * groupW + (groupW - barW * p.series.length) / 2;
    p.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const bx = gx + si * barW;
      const by = y(v);
      out.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y0 + PLOT_BOTTOM - by).toFixed(1)}" fill="${s.color}"><title>${escapeXml(`${s.name} ${cat}: ${v}`)}</title></rect>`);
      out.push(text(bx + (barW - 2) / 2, by - 3, shortNumber(v), 'text-anchor="middle" font-size="9"'));
    });
    const cx = x0 + PLOT_LEFT + (ci + 0.5) * groupW;
    out.push(text(cx, y0 + PLOT_BOTTOM + 14, cat, 'text-anchor="middle" font-size="11"'));
    const note = p.notes?.[ci];
    if (note) out.push(text(cx, y0 + PLOT_BOTTOM + 28, note, 'text-anchor="middle" font-size="10" fill="#333"'));
  });
  // Reference lines across the plot, labelled in a key under the panel title (a label on the line would hide
  // behind the bars it crosses).
  let keyX = x0 + PLOT_LEFT;
  for (const l of p.lines ?? []) {
    const ly = y(l.value).toFixed(1);
    const color = l.color ?? '#2f855a';
    out.push(`<line x1="${x0 + PLOT_LEFT}" x2="${x0 + PANEL_W - PLOT_RIGHT}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-dasharray="5 3"/>`);
    out.push(`<line x1="${keyX}" x2="${keyX + 16}" y1="${y0 + 31}" y2="${y0 + 31}" stroke="${color}" stroke-dasharray="5 3"/>`);
    out.push(text(keyX + 19, y0 + 34, l.label, `font-size="9" fill="${color}"`));
    keyX += 30 + l.label.length * 5;
  }
  out.push(`<line x1="${x0 + PLOT_LEFT}" x2="${x0 + PANEL_W - PLOT_RIGHT}" y1="${y0 + PLOT_BOTTOM}" y2="${y0 + PLOT_BOTTOM}" stroke="#333"/>`);
  return out.join('\n');
}

/** The chart as a standalone SVG document. */
export function renderChart(c: Chart): string {
  const width = Math.max(560, PANEL_W * Math.max(1, c.panels.length) + 20);
  const height = HEADER + PANEL_H + LEGEND;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img" aria-label="${escapeXml(c.title)}">`,
    `<title>${escapeXml(c.subtitle ? `${c.title} (${c.subtitle})` : c.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    text(10, 22, c.title, 'font-size="15" font-weight="bold"'),
  ];
  if (c.subtitle) out.push(text(10, 40, c.subtitle, 'font-size="11" fill="#555"'));
  for (const [i, p] of c.panels.entries()) out.push(panelSvg(p, 10 + i * PANEL_W, HEADER));
  const series = c.panels[0]?.series ?? [];
  let lx = 10;
  const ly = HEADER + PANEL_H + 12;
  for (const s of series) {
    out.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${s.color}"/>`);
    out.push(text(lx + 14, ly, s.name, 'font-size="11"'));
    lx += 24 + s.name.length * 7;
  }
  out.push('</svg>', '');
  return out.join('\n');
}
