/** Step statuses folded onto graph nodes (a foreach/loop node has several recorded steps). */
import type { StepPublic } from "../api/types";
import { baseStepId } from "../builder/walk";

const PRIORITY = ["running", "retrying", "failed", "timed_out", "cancelled", "queued", "skipped", "succeeded"];

export function foldStatus(statuses: string[]): string | undefined {
  if (statuses.length === 0) return undefined;
  return [...statuses].sort((a, b) => PRIORITY.indexOf(a) - PRIORITY.indexOf(b))[0];
}

/** base step id (without `[i]` / `#k`) -> the folded status of its steps */
export function statusByStep(steps: StepPublic[]): Map<string, string> {
  const groups = new Map<string, string[]>();
  for (const step of steps) {
    const key = baseStepId(step.step_id);
    groups.set(key, [...(groups.get(key) ?? []), step.status]);
  }
  return new Map([...groups].map(([k, v]) => [k, foldStatus(v) ?? "queued"]));
}
