/** A condition (`{path: $.approved, equals: true}`) as a short readable phrase. */
import type { Condition } from "../api/types";

const OPS: [string, string][] = [
  ["equals", "="],
  ["not_equals", "≠"],
  ["gt", ">"],
  ["gte", "≥"],
  ["lt", "<"],
  ["lte", "≤"],
  ["contains", "contains"],
  ["matches", "matches"],
];

export function describeCondition(condition: Condition | undefined | null): string {
  if (!condition) return "always";
  const c = condition as Record<string, unknown>;
  if (Array.isArray(c.all)) return (c.all as Condition[]).map(describeCondition).join(" and ");
  if (Array.isArray(c.any)) return (c.any as Condition[]).map(describeCondition).join(" or ");
  if (c.not) return `not (${describeCondition(c.not as Condition)})`;
  const path = typeof c.path === "string" ? c.path : "$";
  for (const [key, symbol] of OPS) {
    if (key in c && c[key] !== undefined && c[key] !== null) return `${path} ${symbol} ${JSON.stringify(c[key])}`;
  }
  if (c.exists !== undefined && c.exists !== null) return c.exists ? `${path} exists` : `${path} missing`;
  if (c.is_null !== undefined && c.is_null !== null) return c.is_null ? `${path} is null` : `${path} not null`;
  return path;
}
