/**
 * A backtest's report, from its own output rows: total return, maximum drawdown, Sharpe
 * ratio of per-interval returns (the equity sampling interval, stated), trades, round
 * trips and their win rate, fees, exposure. Rounded only here, at the edge.
 */
import type { EquityRow, FillRow } from '../src/engine/rows.ts';

export interface Report {
  readonly strategy: string;
  readonly params: Record<string, unknown>;
  readonly start_equity: number;
  readonly final_equity: number;
  readonly total_return_pct: number;
  readonly max_drawdown_pct: number;
  /** Mean over standard deviation of per-interval returns, not annualized. */
  readonly sharpe: number | null;
  readonly sharpe_interval: string;
  readonly trades: number;
  readonly round_trips: number;
  readonly win_rate_pct: number | null;
  readonly fees_paid: number;
  /** Share of equity samples with an open position. */
  readonly exposure_pct: number;
}

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

export function buildReport(strategy: string, params: Record<string, unknown>, equity: readonly EquityRow[], fills: readonly FillRow[], interval: string): Report {
  const eq = [...equity].sort((a, b) => (a.time_ns < b.time_ns ? -1 : a.time_ns > b.time_ns ? 1 : 0));
  const start = eq[0]?.equity ?? 0;
  const end = eq.at(-1)?.equity ?? start;
  let peak = Number.NEGATIVE_INFINITY;
  let maxDd = 0;
  for (const e of eq) {
    peak = Math.max(peak, e.equity);
    if (peak > 0) maxDd = Math.max(maxDd, (peak - e.equity) / peak);
  }
  const rets: number[] = [];
  for (let i = 1; i < eq.length; i++) rets.push(eq[i]!.equity / eq[i - 1]!.equity - 1);
  const mean = rets.reduce((a, b) => a + b, 0) / Math.max(1, rets.length);
  const sd = Math.sqrt(rets.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, rets.length - 1));
  const trips = roundTrips(fills);
  return {
    strategy, params,
    start_equity: r6(start), final_equity: r6(end),
    total_return_pct: r6(start > 0 ? (end / start - 1) * 100 : 0),
    max_drawdown_pct: r6(maxDd * 100),
    sharpe: rets.length > 1 && sd > 0 ? r6(mean / sd) : null,
    sharpe_interval: interval,
    trades: fills.length,
    round_trips: trips.length,
    win_rate_pct: trips.length > 0 ? r6((trips.filter((p) => p > 0).length / trips.length) * 100) : null,
    fees_paid: r6(fills.reduce((a, f) => a + f.fee, 0)),
    exposure_pct: r6(eq.length > 0 ? (eq.filter((e) => e.gross_exposure > 1e-9).length / eq.length) * 100 : 0),
  };
}

/**
 * PnL of each round trip per market: from flat, through fills, back to flat (fees in).
 * Fills are taken in log order.
 */
export function roundTrips(fills: readonly FillRow[]): number[] {
  const ordered = [...fills].sort((a, b) => (a.session < b.session ? -1 : a.session > b.session ? 1 : a.ingest_seq < b.ingest_seq ? -1 : a.ingest_seq > b.ingest_seq ? 1 : Number(a.order_id - b.order_id)));
  const open = new Map<string, { pos: number; cash: number }>();
  const out: number[] = [];
  for (const f of ordered) {
    const k = `${f.exchange}:${f.symbol}`;
    const t = open.get(k) ?? { pos: 0, cash: 0 };
    const sign = f.side === 'buy' ? 1 : -1;
    t.pos += sign * f.size;
    t.cash += -sign * f.price * f.size - f.fee;
    if (Math.abs(t.pos) < 1e-9) {
      out.push(t.cash);
      open.delete(k);
    } else open.set(k, t);
  }
  return out;
}

export function formatReport(r: Report): string {
  const rows: [string, string][] = [
    ['strategy', `${r.strategy} ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' ')}`],
    ['start → final equity', `${r.start_equity.toFixed(2)} → ${r.final_equity.toFixed(2)}`],
    ['total return', `${r.total_return_pct.toFixed(4)} %`],
    ['max drawdown', `${r.max_drawdown_pct.toFixed(4)} %`],
    [`Sharpe (per ${r.sharpe_interval} return)`, r.sharpe === null ? '-' : r.sharpe.toFixed(4)],
    ['trades (fills)', String(r.trades)],
    ['round trips / win rate', `${r.round_trips} / ${r.win_rate_pct === null ? '-' : `${r.win_rate_pct.toFixed(1)} %`}`],
    ['fees paid', r.fees_paid.toFixed(2)],
    ['exposure', `${r.exposure_pct.toFixed(1)} % of samples`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}

/** The equity curve with its drawdowns, as a self-contained SVG. */
export function equitySvg(equity: readonly EquityRow[], title: string): string {
  const W = 900;
  const H = 320;
  const pad = 48;
  const eq = [...equity].sort((a, b) => (a.time_ns < b.time_ns ? -1 : 1));
  if (eq.length < 2) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="20" y="40">not enough equity samples</text></svg>\n`;
  const t0 = Number(eq[0]!.time_ns / 1_000_000n);
  const t1 = Number(eq.at(-1)!.time_ns / 1_000_000n);
  // A loop, not Math.min(...all): a call's arguments live on the stack, and ~125k samples
  // (20 days at the default 10 s) overflowed it at the end of the run.
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const e of eq) {
    if (e.equity < lo) lo = e.equity;
    if (e.equity > hi) hi = e.equity;
  }
  const span = hi - lo || Math.max(1, Math.abs(hi) * 1e-6);
  const x = (ms: number): number => pad + ((ms - t0) / Math.max(1, t1 - t0)) * (W - 2 * pad);
  const y = (v: number): number => H - pad - ((v - lo) / span) * (H - 2 * pad);
  const pts = eq.map((e) => `${x(Number(e.time_ns / 1_000_000n)).toFixed(1)},${y(e.equity).toFixed(1)}`).join(' ');
  let peak = Number.NEGATIVE_INFINITY;
  const peakPts = eq.map((e) => {
    peak = Math.max(peak, e.equity);
    return `${x(Number(e.time_ns / 1_000_000n)).toFixed(1)},${y(peak).toFixed(1)}`;
  });
  const dd = `${peakPts.join(' ')} ${[...pts.split(' ')].reverse().join(' ')}`;
  const label = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${pad}" y="24" font-size="14">${title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`,
    `<polygon points="${dd}" fill="#d62728" fill-opacity="0.25"/>`,
    `<polyline points="${pts}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`,
    `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#888"/>`,
    `<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#888"/>`,
    `<text x="${pad}" y="${H - pad + 16}">${label(t0)} UTC</text>`,
    `<text x="${W - pad}" y="${H - pad + 16}" text-anchor="end">${label(t1)} UTC</text>`,
    `<text x="${pad - 4}" y="${y(hi) + 4}" text-anchor="end">${hi.toFixed(2)}</text>`,
    `<text x="${pad - 4}" y="${y(lo) + 4}" text-anchor="end">${lo.toFixed(2)}</text>`,
    `<text x="${W - pad}" y="24" text-anchor="end" fill="#d62728">shaded: drawdown from the running peak</text>`,
    '</svg>',
    '',
  ].join('\n');
}
