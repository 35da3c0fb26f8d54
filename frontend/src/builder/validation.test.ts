import { describe, expect, it } from "vitest";
import { fromDefinition } from "./convert";
import { friendlyMessage, normalisePath, placeIssues } from "./validation";

describe("validation issues -> where the builder shows them", () => {
  it("normalises pydantic locations", () => {
    expect(normalisePath("body.flow.node:sequence.sequence.0.node:agent.agent")).toBe("flow.sequence[0].agent");
    expect(normalisePath("agents.writer.temperature")).toBe("agents.writer.temperature");
  });

  it("says name patterns in words", () => {
    expect(friendlyMessage("String should match pattern '^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$'")).toMatch(/^use 1 to 80 letters/);
    expect(friendlyMessage("String should match pattern '^[A-Za-z][A-Za-z0-9_-]{0,63}$'")).toMatch(/^use 1 to 64/);
    expect(friendlyMessage("too hot")).toBe("too hot");
  });

  it("places issues on fields, agents, graph nodes and the general list", () => {
    const state = fromDefinition({
      name: "t",
      agents: { a: { role: "A" } },
      flow: { sequence: ["a", { route: { router: "ghost", cases: [{ name: "x", do: "nobody" }] } }] },
    });
    const [seq] = [state.flow!];
    const route = seq.kind === "sequence" ? seq.children[1]! : seq;
    const nobody = route.kind === "route" ? route.cases[0]!.body : route;
    const placed = placeIssues(
      [
        { path: "name", message: "bad name" },
        { path: "agents.a.temperature", message: "too hot" },
        { path: "flow.sequence[1].route.router", message: "unknown agent 'ghost'" },
        { path: "flow.sequence[1].route.cases[0].do", message: "unknown agent 'nobody'" },
        { path: "definition", message: "something else" },
      ],
      state,
    );
    expect(placed.fields).toEqual({ name: ["bad name"] });
    expect(placed.agents).toEqual({ a: { temperature: ["too hot"] } });
    expect(placed.nodes[route.uid]).toEqual(["unknown agent 'ghost'"]);
    expect(placed.nodes[nobody.uid]).toEqual(["unknown agent 'nobody'"]);
    expect(placed.general.map((i) => i.message)).toEqual(["something else"]);
    expect(placed.count).toBe(5);
  });
});
