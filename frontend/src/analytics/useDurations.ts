/** Execution durations in a date range, for p50/p95 (the usage totals only keep sums). */
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";

const PAGES = 5;

export function useDurations(start: string, end: string) {
  return useQuery({
    queryKey: ["durations", start, end],
    queryFn: async () => {
      const from = Date.parse(`${start}T00:00:00Z`) / 1000;
      const to = Date.parse(`${end}T00:00:00Z`) / 1000 + 86400;
      const durations: number[] = [];
      let cursor: string | undefined;
      let complete = true;
      for (let page = 0; page < PAGES; page += 1) {
        const data = unwrap(await api.GET("/executions", { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } }));
        for (const e of data.items) {
          if (e.created_at >= from && e.created_at < to && e.duration !== null) durations.push(e.duration);
        }
        const oldest = data.items[data.items.length - 1]?.created_at ?? 0;
        cursor = data.next_cursor ?? undefined;
        if (!cursor || oldest < from) break;
        if (page === PAGES - 1) complete = false;
      }
      return { durations, complete };
    },
  });
}
