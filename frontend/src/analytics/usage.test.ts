import { describe, expect, it } from "vitest";
import { breakdown, dailySeries, percentile, successRate } from "./usage";

describe("analytics arithmetic", () => {
  it("fills every day of the range", () => {
    const series = dailySeries({
      start: "2026-11-01",
      end: "2026-11-03",
      totals: {},
      days: [{ day: "2026-11-02", metrics: { executions: 3, executions_succeeded: 2, input_tokens: 10, output_tokens: 5, cost_usd: 0.5 } }],
      by_model: {},
      by_workflow: {},
    });
    expect(series.map((d) => d.day)).toEqual(["2026-11-01", "2026-11-02", "2026-11-03"]);
    expect(series[1]).toEqual({ day: "2026-11-02", executions: 3, succeeded: 2, failed: 1, tokens: 15, cost: 0.5 });
  });

  it("computes the success rate, breakdowns and percentiles", () => {
    expect(successRate({ executions: 4, executions_succeeded: 3 })).toBe(0.75);
    expect(successRate({})).toBeNull();
    expect(breakdown({ w1: { executions: 1, input_tokens: 5 }, w2: { executions: 2, input_tokens: 50 } }, { w2: "two" }).map((r) => r.label)).toEqual(["two", "w1"]);
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([], 50)).toBeNull();
  });
});
