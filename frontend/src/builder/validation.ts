/** Validation issues from the API (POST /workflows/validate, a 422 on save) placed where the
 * builder shows them: on a field, an agent card's field, a graph node, or the general list. */
import type { Issue } from "../api/types";
import type { BuilderState } from "./model";
import { walkFlow } from "./walk";

export interface PlacedIssues {
  general: Issue[];
  fields: Record<string, string[]>;
  agents: Record<string, Record<string, string[]>>;
  nodes: Record<string, string[]>;
  count: number;
}

/** "flow.node:sequence.sequence.0.node:agent.agent" (pydantic) -> "flow.sequence[0].agent". */
export function normalisePath(path: string): string {
  let out = "";
  for (const segment of path.split(".")) {
    if (segment === "" || segment === "body" || segment.startsWith("node:") || (segment.includes("[") && segment.includes("-"))) continue;
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}

const TOP_FIELDS = ["name", "description", "mode", "max_parallel", "error_handling", "retry", "on_error", "budget", "tool_settings"];

function push<T extends string>(target: Record<T, string[]>, key: T, message: string): void {
  (target[key] ??= []).push(message);
}

const PATTERNS: [RegExp, string][] = [
  [/\{0,79\}/, "use 1 to 80 letters, digits, spaces, “_”, “.” or “-”, starting with a letter or digit"],
  [/\{0,63\}/, "use 1 to 64 letters, digits, “_” or “-”, starting with a letter"],
];

/** Pydantic's "String should match pattern '…'" said in words. */
export function friendlyMessage(message: string): string {
  if (!message.startsWith("String should match pattern")) return message;
  return PATTERNS.find(([re]) => re.test(message))?.[1] ?? message;
}

export function placeIssues(issues: Issue[], state: BuilderState): PlacedIssues {
  const placed: PlacedIssues = { general: [], fields: {}, agents: {}, nodes: {}, count: issues.length };
  const infos = state.flow ? [...walkFlow(state.flow).values()] : [];
  for (const raw of issues) {
    const issue = { ...raw, message: friendlyMessage(raw.message) };
    const path = normalisePath(issue.path);
    const [head, ...rest] = path.split(".");
    if (head === "agents" && rest.length > 0) {
      const name = rest[0] ?? "";
      const field = (rest[1] ?? "_").replace(/\[\d+\]$/, "");
      push((placed.agents[name] ??= {}), field, issue.message);
      continue;
    }
    if (head?.startsWith("flow") && infos.length > 0) {
      const owner = infos
        .filter((i) => path === i.path || path.startsWith(`${i.path}.`))
        .sort((a, b) => b.path.length - a.path.length)[0];
      if (owner) {
        push(placed.nodes, owner.uid, issue.message);
        continue;
      }
    }
    const field = head?.replace(/\[\d+\]$/, "") ?? "";
    if (TOP_FIELDS.includes(field)) push(placed.fields, field, issue.message);
    else placed.general.push({ ...issue, path });
  }
  return placed;
}

export const NO_ISSUES: PlacedIssues = { general: [], fields: {}, agents: {}, nodes: {}, count: 0 };
