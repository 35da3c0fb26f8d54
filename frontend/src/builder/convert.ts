/** Definition (the JSON/YAML the API takes) <-> builder state. `toDefinition(fromDefinition(d))`
 * gives `d` back, up to bare agent names (`writer` and `{agent: writer}` are the same node). */
import type { AgentSpec, Condition, RetryPolicy, WorkflowDefinition } from "../api/types";
import {
  AGENT_DEFAULTS,
  type AgentEntry,
  type BuilderState,
  type Flow,
  type Mode,
  type OnError,
  type RouteBy,
  type RouteCaseFlow,
  newUid,
} from "./model";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export class DefinitionShapeError extends Error {}

function base(node: Json): { uid: string; id?: string; on_error?: OnError } {
  const out: { uid: string; id?: string; on_error?: OnError } = { uid: newUid() };
  if (typeof node.id === "string") out.id = node.id;
  if (node.on_error === "fail" || node.on_error === "continue") out.on_error = node.on_error;
  return out;
}

const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

/** A flow node as written (a bare string is an agent) -> builder node. */
export function flowFromJson(value: unknown, where = "flow"): Flow {
  if (typeof value === "string") return { uid: newUid(), kind: "agent", agent: value };
  if (!isObject(value)) throw new DefinitionShapeError(`${where}: a flow node must be a name or a mapping`);
  const kinds = ["agent", "sequence", "parallel", "foreach", "route", "loop"].filter((k) => k in value);
  if (kinds.length !== 1) {
    throw new DefinitionShapeError(`${where}: needs exactly one of agent, sequence, parallel, foreach, route, loop`);
  }
  const b = base(value);
  const list = (key: string): Flow[] => {
    const items = value[key];
    if (!Array.isArray(items)) throw new DefinitionShapeError(`${where}.${key}: must be a list`);
    return items.map((item, i) => flowFromJson(item, `${where}.${key}[${i}]`));
  };
  switch (kinds[0]) {
    case "agent": {
      const node: Flow = { ...b, kind: "agent", agent: String(value.agent) };
      if (isObject(value.retry)) node.retry = value.retry as RetryPolicy;
      if (num(value.timeout) !== undefined) node.timeout = num(value.timeout);
      return node;
    }
    case "sequence":
      return { ...b, kind: "sequence", children: list("sequence") };
    case "parallel": {
      const node: Flow = { ...b, kind: "parallel", children: list("parallel") };
      if (num(value.max_parallel) !== undefined) node.max_parallel = num(value.max_parallel);
      return node;
    }
    case "foreach": {
      const node: Flow = { ...b, kind: "foreach", path: String(value.foreach), body: flowFromJson(value.do, `${where}.do`) };
      if (num(value.max_parallel) !== undefined) node.max_parallel = num(value.max_parallel);
      return node;
    }
    case "loop": {
      const node: Flow = {
        ...b,
        kind: "loop",
        body: flowFromJson(value.loop, `${where}.loop`),
        max_iterations: num(value.max_iterations) ?? 3,
      };
      if (isObject(value.until)) node.until = value.until as Condition;
      return node;
    }
    default:
      return routeFromJson(value, b, where);
  }
}

function routeFromJson(value: Json, b: ReturnType<typeof base>, where: string): Flow {
  const spec = value.route;
  if (!isObject(spec) || !Array.isArray(spec.cases)) throw new DefinitionShapeError(`${where}.route: needs cases`);
  const cases: RouteCaseFlow[] = spec.cases.map((c, i) => {
    if (!isObject(c)) throw new DefinitionShapeError(`${where}.route.cases[${i}]: must be a mapping`);
    const out: RouteCaseFlow = {
      uid: newUid("c"),
      name: String(c.name ?? ""),
      description: typeof c.description === "string" ? c.description : "",
      body: flowFromJson(c.do, `${where}.route.cases[${i}].do`),
    };
    if (isObject(c.when)) out.when = c.when as Condition;
    return out;
  });
  const node: Flow = { ...b, kind: "route", cases };
  if (typeof spec.router === "string") node.router = spec.router;
  if (spec.by === "rules" || spec.by === "agent" || spec.by === "skills") node.by = spec.by as RouteBy;
  if (spec.default !== undefined && spec.default !== null) node.default = flowFromJson(spec.default, `${where}.route.default`);
  return node;
}

function common(node: Flow): Json {
  const out: Json = {};
  if (node.id) out.id = node.id;
  if (node.on_error) out.on_error = node.on_error;
  return out;
}

/** Builder node -> the definition's flow node (plain agents as bare names). */
export function flowToJson(node: Flow): unknown {
  const c = common(node);
  switch (node.kind) {
    case "agent": {
      const out: Json = { agent: node.agent, ...c };
      if (node.retry) out.retry = node.retry;
      if (node.timeout !== undefined) out.timeout = node.timeout;
      return Object.keys(out).length === 1 ? node.agent : out;
    }
    case "sequence":
      return { sequence: node.children.map(flowToJson), ...c };
    case "parallel": {
      const out: Json = { parallel: node.children.map(flowToJson), ...c };
      if (node.max_parallel !== undefined) out.max_parallel = node.max_parallel;
      return out;
    }
    case "foreach": {
      const out: Json = { foreach: node.path, do: flowToJson(node.body), ...c };
      if (node.max_parallel !== undefined) out.max_parallel = node.max_parallel;
      return out;
    }
    case "loop": {
      const out: Json = { loop: flowToJson(node.body), max_iterations: node.max_iterations, ...c };
      if (node.until) out.until = node.until;
      return out;
    }
    case "route": {
      const route: Json = {};
      if (node.router) route.router = node.router;
      if (node.by) route.by = node.by;
      route.cases = node.cases.map((k) => {
        const out: Json = { name: k.name, description: k.description };
        if (k.when) out.when = k.when;
        out.do = flowToJson(k.body);
        return out;
      });
      if (node.default) route.default = flowToJson(node.default);
      return { route, ...c };
    }
  }
}

const KNOWN = ["name", "description", "agents", "flow", "mode", "max_parallel", "error_handling", "retry", "on_error"];

/** A definition (parsed YAML/JSON or the API's) -> builder state. */
export function fromDefinition(definition: unknown): BuilderState {
  if (!isObject(definition)) throw new DefinitionShapeError("a workflow definition must be a mapping");
  const agentsJson = definition.agents ?? {};
  if (!isObject(agentsJson)) throw new DefinitionShapeError("agents: must be a mapping of name to agent");
  const agents: AgentEntry[] = Object.entries(agentsJson).map(([name, spec]) => {
    if (!isObject(spec)) throw new DefinitionShapeError(`agents.${name}: must be a mapping`);
    return { uid: newUid("a"), name, spec: { ...AGENT_DEFAULTS, ...spec } as unknown as AgentSpec };
  });
  const mode = definition.mode;
  const rest: Json = {};
  for (const [key, value] of Object.entries(definition)) if (!KNOWN.includes(key)) rest[key] = value;
  const state: BuilderState = {
    name: typeof definition.name === "string" ? definition.name : "",
    description: typeof definition.description === "string" ? definition.description : "",
    agents,
    mode: mode === "parallel" || mode === "conditional" ? (mode as Mode) : "sequential",
    flow: definition.flow === undefined || definition.flow === null ? null : flowFromJson(definition.flow),
    max_parallel: num(definition.max_parallel) ?? 5,
    on_error: definition.on_error === "continue" ? "continue" : "fail",
    rest,
  };
  if (typeof definition.error_handling === "string") state.error_handling = definition.error_handling;
  if (isObject(definition.retry)) state.retry = definition.retry as RetryPolicy;
  return state;
}

/** Builder state -> the definition POST /workflows/ takes. */
export function toDefinition(state: BuilderState): WorkflowDefinition {
  const out: Json = { name: state.name };
  out.description = state.description;
  out.agents = Object.fromEntries(state.agents.map((a) => [a.name, a.spec]));
  if (state.flow) out.flow = flowToJson(state.flow);
  out.mode = state.mode;
  out.max_parallel = state.max_parallel;
  if (state.error_handling) out.error_handling = state.error_handling;
  if (state.retry) out.retry = state.retry;
  out.on_error = state.on_error;
  return { ...out, ...state.rest } as unknown as WorkflowDefinition;
}

/** The flow `mode` implies when there is no `flow` (mirrors WorkflowDefinition.effective_flow). */
export function effectiveFlow(state: BuilderState): Flow {
  if (state.flow) return state.flow;
  const names = state.agents.map((a) => a.name);
  const agent = (name: string): Flow => ({ uid: `mode-${name}`, kind: "agent", agent: name });
  if (state.mode === "parallel") {
    return { uid: "mode-root", kind: "parallel", children: names.map(agent), max_parallel: state.max_parallel };
  }
  if (state.mode === "conditional" && names.length > 1) {
    const [router, ...rest] = names as [string, ...string[]];
    const cases = rest.map((name) => {
      const spec = state.agents.find((a) => a.name === name)?.spec;
      return { uid: `mode-case-${name}`, name, description: spec?.description || spec?.role || "", body: agent(name) };
    });
    return { uid: "mode-root", kind: "route", router, cases };
  }
  return { uid: "mode-root", kind: "sequence", children: names.map(agent) };
}
