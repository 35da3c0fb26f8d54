import { describe, expect, it } from "vitest";
import { fromDefinition, toDefinition } from "./convert";
import { flowToGraph } from "./graph";
import type { Flow } from "./model";
import { addCase, connect, insertAfter, moveNode, removeNode, renameAgent, wrapNode } from "./ops";
import { walkFlow } from "./walk";

const agent = (name: string, uid = name): Flow => ({ uid, kind: "agent", agent: name });

describe("flow -> graph", () => {
  it("chains a sequence from input to output", () => {
    const flow: Flow = { uid: "s", kind: "sequence", children: [agent("a"), agent("b"), agent("c")] };
    const graph = flowToGraph(flow);
    const pairs = graph.edges.map((e) => `${e.source}>${e.target}`);
    expect(pairs).toEqual(["a>b", "b>c", "start>a", "c>end"]);
    const x = (id: string) => graph.nodes.find((n) => n.id === id)!.x;
    expect(x("a")).toBeLessThan(x("b")); // laid out left to right
    expect(x("b")).toBeLessThan(x("c"));
  });

  it("draws a route's cases as labelled edges and shows the router step", () => {
    const state = fromDefinition({
      name: "t",
      agents: {},
      flow: { route: { router: "triage", cases: [{ name: "billing", do: "billing" }], default: "general" } },
    });
    const graph = flowToGraph(state.flow);
    expect(graph.edges.filter((e) => e.label).map((e) => e.label)).toEqual(["billing", "default"]);
    expect(graph.nodes.find((n) => n.kind === "route")?.stepId).toBe("route_router");
  });

  it("draws a loop with a back edge and a parallel with fork and join", () => {
    const state = fromDefinition({
      name: "t",
      agents: {},
      flow: { sequence: [{ parallel: ["a", "b"] }, { loop: "c", until: { path: "$.ok", equals: true } }] },
    });
    const graph = flowToGraph(state.flow);
    expect(graph.edges.some((e) => e.back && e.label === "repeat")).toBe(true);
    expect(graph.nodes.find((n) => n.kind === "until")?.label).toBe("until $.ok = true");
    expect(graph.nodes.filter((n) => n.kind === "join")).toHaveLength(1);
  });

  it("draws branches top to bottom in their order", () => {
    const state = fromDefinition({ name: "t", agents: {}, flow: { parallel: ["a", "b", "c", "d"] } });
    const graph = flowToGraph(state.flow);
    const y = (label: string) => graph.nodes.find((n) => n.label === label)!.y;
    expect([y("a"), y("b"), y("c")]).toEqual([...[y("a"), y("b"), y("c")]].sort((p, q) => p - q));
    expect(y("a")).toBeLessThan(y("d"));
  });
});

describe("step ids (as the server assigns them)", () => {
  it("numbers repeated agents and containers in pre-order", () => {
    const state = fromDefinition({
      name: "t",
      agents: {},
      flow: { sequence: ["a", { sequence: ["a", { agent: "b", id: "named" }] }, "a"] },
    });
    const ids = [...walkFlow(state.flow!).values()].map((i) => i.runtimeId);
    expect(ids).toEqual(["sequence", "a", "sequence_2", "a_2", "named", "a_3"]);
  });
});

describe("graph edits -> definition", () => {
  it("builds a three-agent sequence by adding nodes after each other", () => {
    let flow: Flow = agent("researcher");
    flow = insertAfter(flow, "researcher", agent("writer"));
    flow = insertAfter(flow, "writer", agent("reviewer"));
    const state = { ...fromDefinition({ name: "t", agents: {} }), flow };
    expect(toDefinition(state).flow).toEqual({ sequence: ["researcher", "writer", "reviewer"] });
  });

  it("re-orders by connecting and by moving", () => {
    let flow: Flow = { uid: "s", kind: "sequence", children: [agent("a"), agent("b"), agent("c")] };
    flow = connect(flow, "a", "c"); // draw a -> c: c now runs right after a
    expect(toDefinition({ ...fromDefinition({ name: "t", agents: {} }), flow }).flow).toEqual({ sequence: ["a", "c", "b"] });
    flow = moveNode(flow, "a", 1);
    expect(toDefinition({ ...fromDefinition({ name: "t", agents: {} }), flow }).flow).toEqual({ sequence: ["c", "a", "b"] });
    expect(connect(flow, "a", "a")).toBe(flow);
  });

  it("wraps, adds route cases, removes and renames", () => {
    let flow: Flow = { uid: "s", kind: "sequence", children: [agent("a"), agent("b")] };
    flow = wrapNode(flow, "b", "parallel");
    flow = addCase(wrapNode(flow, "a", "sequence"), "s", { uid: "c1", name: "x", description: "", body: agent("a") });
    flow = renameAgent(flow, "a", "alpha");
    flow = removeNode(flow, "b")!;
    const definition = toDefinition({ ...fromDefinition({ name: "t", agents: {} }), flow });
    expect(definition.flow).toEqual({ sequence: [{ sequence: ["alpha"] }, { parallel: [] }] });
  });
});
