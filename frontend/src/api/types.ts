import type { components } from "./schema";

type S = components["schemas"];
export type WorkflowDefinition = S["WorkflowDefinition"];
export type WorkflowPublic = S["WorkflowPublic"];
export type AgentSpec = S["AgentSpec"];
export type RetryPolicy = S["RetryPolicy"];
export type Condition = S["Condition"];
export type ExecutionPublic = S["ExecutionPublic"];
export type StepPublic = S["StepPublic"];
export type LogPublic = S["LogPublic"];
export type Catalog = S["Catalog"];
export type ApiKeyPublic = S["ApiKeyPublic"];
export type ApiKeyCreated = S["ApiKeyCreated"];
export type ProviderKeyPublic = S["ProviderKeyPublic"];

export type ExecutionStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "timed_out";
export const TERMINAL: readonly string[] = ["succeeded", "failed", "cancelled", "timed_out"];

/** One validation problem as the API reports it (`issues` of a 422). */
export interface Issue {
  path: string;
  message: string;
  line?: number | null;
}

/** GET /usage: the route returns a free-form mapping, so its shape is written down here. */
export interface Usage {
  start: string;
  end: string;
  totals: Record<string, number>;
  days: { day: string; metrics: Record<string, number> }[];
  by_model: Record<string, Record<string, number>>;
  by_workflow: Record<string, Record<string, number>>;
}
