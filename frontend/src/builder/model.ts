/** The builder's working copy of a workflow: the definition, with a stable `uid` on every
 * flow node so the graph can select, move and configure nodes. Pure data, no React. */
import type { AgentSpec, Condition, RetryPolicy } from "../api/types";

export type OnError = "fail" | "continue";
export type Mode = "sequential" | "parallel" | "conditional";
export type RouteBy = "rules" | "agent" | "skills";

interface NodeBase {
  uid: string;
  id?: string;
  on_error?: OnError;
}

export interface AgentFlow extends NodeBase {
  kind: "agent";
  agent: string;
  retry?: RetryPolicy;
  timeout?: number;
}
export interface SequenceFlow extends NodeBase {
  kind: "sequence";
  children: Flow[];
}
export interface ParallelFlow extends NodeBase {
  kind: "parallel";
  children: Flow[];
  max_parallel?: number;
}
export interface ForeachFlow extends NodeBase {
  kind: "foreach";
  path: string;
  body: Flow;
  max_parallel?: number;
}
export interface RouteCaseFlow {
  uid: string;
  name: string;
  description: string;
  when?: Condition;
  body: Flow;
}
export interface RouteFlow extends NodeBase {
  kind: "route";
  router?: string;
  by?: RouteBy;
  cases: RouteCaseFlow[];
  default?: Flow;
}
export interface LoopFlow extends NodeBase {
  kind: "loop";
  body: Flow;
  until?: Condition;
  max_iterations: number;
}

export type Flow = AgentFlow | SequenceFlow | ParallelFlow | ForeachFlow | RouteFlow | LoopFlow;
export type FlowKind = Flow["kind"];

export interface AgentEntry {
  /** stable across renames (the card's key) */
  uid: string;
  name: string;
  spec: AgentSpec;
}

export interface BuilderState {
  name: string;
  description: string;
  agents: AgentEntry[];
  mode: Mode;
  /** null: the flow `mode` implies for the agents in order (no `flow` in the definition). */
  flow: Flow | null;
  max_parallel: number;
  error_handling?: string;
  retry?: RetryPolicy;
  on_error: OnError;
  /** Everything else of the definition (budget, tool_settings, version), carried unchanged. */
  rest: Record<string, unknown>;
}

let counter = 0;
export function newUid(prefix = "n"): string {
  counter += 1;
  return `${prefix}${counter}`;
}

/** The API's defaults for an agent's fields (agentweaver/workflow/definition.py AgentSpec). */
export const AGENT_DEFAULTS = {
  model: "claude",
  tools: [] as string[],
  personality: "helpful, professional",
  temperature: 0.7,
  max_tokens: 4000,
  timeout: 30,
  description: "",
  instructions: "",
  output: "text",
  max_tool_rounds: 8,
  fallback_models: [] as string[],
  model_settings: {},
} satisfies Partial<AgentSpec>;

/** A new agent with the API's defaults written out, so the cards show what will run. */
export function defaultAgent(role = "Assistant", model = "claude"): AgentSpec {
  return { ...AGENT_DEFAULTS, tools: [], role, model } as AgentSpec;
}

export function emptyState(): BuilderState {
  return {
    name: "",
    description: "",
    agents: [],
    mode: "sequential",
    flow: null,
    max_parallel: 5,
    on_error: "fail",
    rest: {},
  };
}
