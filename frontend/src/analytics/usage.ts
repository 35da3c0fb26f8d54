/** Analytics arithmetic (pure): daily series, breakdowns, success rate, percentiles. */
import type { Usage } from "../api/types";

export interface DayPoint {
  day: string;
  executions: number;
  succeeded: number;
  failed: number;
  tokens: number;
  cost: number;
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function daysBetween(start: string, end: string): string[] {
  const out: string[] = [];
  const last = new Date(`${end}T00:00:00Z`);
  for (let d = new Date(`${start}T00:00:00Z`); d <= last && out.length < 400; d.setUTCDate(d.getUTCDate() + 1)) out.push(isoDay(d));
  return out;
}

const m = (metrics: Record<string, number> | undefined, key: string): number => metrics?.[key] ?? 0;

/** One point per day of the range (days without runs are zeros). */
export function dailySeries(usage: Usage): DayPoint[] {
  const byDay = new Map(usage.days.map((d) => [d.day, d.metrics]));
  return daysBetween(usage.start, usage.end).map((day) => {
    const metrics = byDay.get(day);
    const executions = m(metrics, "executions");
    const succeeded = m(metrics, "executions_succeeded");
    return {
      day,
      executions,
      succeeded,
      failed: executions - succeeded,
      tokens: m(metrics, "input_tokens") + m(metrics, "output_tokens"),
      cost: m(metrics, "cost_usd"),
    };
  });
}

export function successRate(totals: Record<string, number>): number | null {
  const runs = m(totals, "executions");
  return runs ? m(totals, "executions_succeeded") / runs : null;
}

export interface BreakdownRow {
  key: string;
  label: string;
  executions: number;
  steps: number;
  tokens: number;
  cost: number;
}

export function breakdown(groups: Record<string, Record<string, number>>, names: Record<string, string> = {}): BreakdownRow[] {
  return Object.entries(groups)
    .map(([key, metrics]) => ({
      key,
      label: names[key] ?? key,
      executions: m(metrics, "executions"),
      steps: m(metrics, "steps"),
      tokens: m(metrics, "input_tokens") + m(metrics, "output_tokens"),
      cost: m(metrics, "cost_usd"),
    }))
    .sort((a, b) => b.tokens - a.tokens || b.executions - a.executions);
}

/** Nearest-rank percentile (p in 0..100); null without values. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1] ?? null;
}
