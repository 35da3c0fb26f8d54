/** The analytics charts (recharts), each with a title and a text summary for screen readers. */
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { BreakdownRow, DayPoint } from "./usage";

const SIZE = { width: 520, height: 220 };

function ChartCard({ title, summary, children }: { title: string; summary: string; children: React.ReactElement }) {
  return (
    <figure className="card chart">
      <figcaption>{title}</figcaption>
      <div aria-hidden="true">
        <ResponsiveContainer width="100%" height={SIZE.height} initialDimension={SIZE}>
          {children}
        </ResponsiveContainer>
      </div>
      <p className="sr-only">{summary}</p>
    </figure>
  );
}

const short = (day: string) => day.slice(5);

export function ExecutionsChart({ days }: { days: DayPoint[] }) {
  const total = days.reduce((n, d) => n + d.executions, 0);
  return (
    <ChartCard title="Executions per day" summary={`${total} executions in the range.`}>
      <BarChart data={days}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="day" tickFormatter={short} />
        <YAxis allowDecimals={false} />
        <Tooltip />
        <Legend />
        <Bar isAnimationActive={false} dataKey="succeeded" stackId="runs" fill="#2f855a" name="succeeded" />
        <Bar isAnimationActive={false} dataKey="failed" stackId="runs" fill="#c53030" name="not succeeded" />
      </BarChart>
    </ChartCard>
  );
}

export function TokensCostChart({ days }: { days: DayPoint[] }) {
  const tokens = days.reduce((n, d) => n + d.tokens, 0);
  const cost = days.reduce((n, d) => n + d.cost, 0);
  return (
    <ChartCard title="Tokens and cost per day" summary={`${tokens} tokens, $${cost.toFixed(4)} in the range.`}>
      <LineChart data={days}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="day" tickFormatter={short} />
        <YAxis yAxisId="tokens" />
        <YAxis yAxisId="cost" orientation="right" tickFormatter={(v: number) => `$${v}`} />
        <Tooltip />
        <Legend />
        <Line isAnimationActive={false} dot={{ r: 2 }} yAxisId="tokens" type="monotone" dataKey="tokens" stroke="#2b6cb0" name="tokens" />
        <Line isAnimationActive={false} dot={{ r: 2 }} yAxisId="cost" type="monotone" dataKey="cost" stroke="#b7791f" name="cost (USD)" />
      </LineChart>
    </ChartCard>
  );
}

export function BreakdownChart({ title, rows }: { title: string; rows: BreakdownRow[] }) {
  return (
    <ChartCard title={title} summary={rows.map((r) => `${r.label}: ${r.tokens} tokens`).join("; ") || "No data."}>
      <BarChart data={rows.slice(0, 8)} layout="vertical" margin={{ left: 24 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis type="number" />
        <YAxis type="category" dataKey="label" width={130} />
        <Tooltip />
        <Bar isAnimationActive={false} dataKey="tokens" fill="#6b46c1" name="tokens" />
      </BarChart>
    </ChartCard>
  );
}
