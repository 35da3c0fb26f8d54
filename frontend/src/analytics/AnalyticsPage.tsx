/** Usage over a date range: executions, success rate, tokens and cost per day, per model and
 * per workflow, and p50/p95 duration. */
import { useId, useMemo, useState } from "react";
import { useUsage, useWorkflows } from "../api/queries";
import { formatCost, formatDuration, formatNumber } from "../components/format";
import { Empty, ErrorState, Loading } from "../components/States";
import { BreakdownChart, ExecutionsChart, TokensCostChart } from "./Charts";
import { breakdown, dailySeries, isoDay, percentile, successRate } from "./usage";
import { useDurations } from "./useDurations";

const daysAgo = (n: number) => isoDay(new Date(Date.now() - n * 86400_000));

export function AnalyticsPage() {
  const id = useId();
  const [start, setStart] = useState(daysAgo(29));
  const [end, setEnd] = useState(daysAgo(0));
  const usage = useUsage(start, end);
  const durations = useDurations(start, end);
  const workflows = useWorkflows();
  const names = useMemo(() => Object.fromEntries((workflows.data ?? []).map((w) => [w.id, w.name])), [workflows.data]);
  const preset = (n: number) => {
    setStart(daysAgo(n - 1));
    setEnd(daysAgo(0));
  };
  const data = usage.data;
  const rate = data ? successRate(data.totals) : null;
  const values = durations.data?.durations ?? [];
  return (
    <section aria-labelledby={`${id}-title`}>
      <div className="page-head">
        <h1 id={`${id}-title`}>Analytics</h1>
      </div>
      <div className="toolbar">
        <label htmlFor={`${id}-start`}>From</label>
        <input id={`${id}-start`} type="date" value={start} max={end} onChange={(e) => e.target.value && setStart(e.target.value)} />
        <label htmlFor={`${id}-end`}>To</label>
        <input id={`${id}-end`} type="date" value={end} min={start} onChange={(e) => e.target.value && setEnd(e.target.value)} />
        {[7, 30, 90].map((n) => (
          <button key={n} type="button" onClick={() => preset(n)}>
            Last {n} days
          </button>
        ))}
      </div>
      {usage.isPending ? (
        <Loading />
      ) : usage.isError ? (
        <ErrorState error={usage.error} onRetry={() => void usage.refetch()} />
      ) : !data ? null : (
        <>
          <dl className="kpis" aria-label="Totals">
            <div>
              <dt>Executions</dt>
              <dd data-testid="kpi-executions">{formatNumber(data.totals.executions ?? 0)}</dd>
            </div>
            <div>
              <dt>Success rate</dt>
              <dd>{rate === null ? "–" : `${Math.round(rate * 100)}%`}</dd>
            </div>
            <div>
              <dt>Tokens</dt>
              <dd>{formatNumber((data.totals.input_tokens ?? 0) + (data.totals.output_tokens ?? 0))}</dd>
            </div>
            <div>
              <dt>Cost</dt>
              <dd>{formatCost(data.totals.cost_usd ?? 0)}</dd>
            </div>
            <div>
              <dt>p50 duration</dt>
              <dd>{formatDuration(percentile(values, 50))}</dd>
            </div>
            <div>
              <dt>p95 duration</dt>
              <dd>
                {formatDuration(percentile(values, 95))}
                {durations.data && !durations.data.complete ? " (latest 1000)" : ""}
              </dd>
            </div>
          </dl>
          {!data.totals.executions ? (
            <Empty title="No executions in this range." />
          ) : (
            <div className="charts">
              <ExecutionsChart days={dailySeries(data)} />
              <TokensCostChart days={dailySeries(data)} />
              <BreakdownChart title="Tokens per model" rows={breakdown(data.by_model)} />
              <BreakdownChart title="Tokens per workflow" rows={breakdown(data.by_workflow, names)} />
            </div>
          )}
          <BreakdownTable title="Per workflow" rows={breakdown(data.by_workflow, names)} count="executions" />
          <BreakdownTable title="Per model" rows={breakdown(data.by_model)} count="steps" />
        </>
      )}
    </section>
  );
}

function BreakdownTable({ title, rows, count }: { title: string; rows: ReturnType<typeof breakdown>; count: "executions" | "steps" }) {
  if (rows.length === 0) return null;
  return (
    <table className="table">
      <caption>{title}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">{count === "executions" ? "Executions" : "Steps"}</th>
          <th scope="col">Tokens</th>
          <th scope="col">Cost</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <td>{r.label}</td>
            <td>{formatNumber(r[count])}</td>
            <td>{formatNumber(r.tokens)}</td>
            <td>{formatCost(r.cost)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
