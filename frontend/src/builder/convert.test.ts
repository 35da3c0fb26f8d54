import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { effectiveFlow, flowToJson, fromDefinition, toDefinition } from "./convert";
import { compactDefinition, fromYaml, toYaml } from "./yaml";

const examples = join(__dirname, "../../../examples");

/** `{agent: x}` and `x` are the same node: compare with bare names. */
function canon(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canon);
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0]?.[0] === "agent") return entries[0][1];
    return Object.fromEntries(entries.map(([k, v]) => [k, canon(v)]));
  }
  return value;
}

const yamlFiles = readdirSync(examples).filter((f) => f.endsWith(".yaml"));

describe("definition <-> builder state", () => {
  it.each(yamlFiles)("round-trips examples/%s", (file) => {
    const definition = parse(readFileSync(join(examples, file), "utf8")) as Record<string, unknown>;
    const back = toDefinition(fromDefinition(definition));
    expect(canon(back.flow)).toEqual(canon(definition.flow));
    // the agents' defaults are written out in the builder: the same agents, spelled fully
    const given = definition as unknown as Parameters<typeof compactDefinition>[0];
    expect(compactDefinition(back).agents).toEqual(compactDefinition(given).agents);
    const full = back as unknown as Record<string, unknown>;
    for (const key of Object.keys(definition)) if (key !== "agents") expect(canon(full[key])).toEqual(canon(definition[key]));
    expect(canon(compactDefinition(back))).toEqual(canon(compactDefinition(given)));
  });

  it("round-trips the API's object form of every node kind", () => {
    const flow = {
      sequence: [
        { agent: "a", id: "first", timeout: 10, retry: { retries: 1 } },
        { parallel: [{ agent: "b" }, { foreach: "$.items", do: { agent: "c" }, max_parallel: 2 }], max_parallel: 3 },
        {
          route: {
            by: "rules",
            cases: [{ name: "big", description: "", when: { path: "$.n", gt: 3 }, do: { agent: "a" } }],
            default: { loop: { agent: "b" }, until: { path: "$.ok", equals: true }, max_iterations: 4 },
          },
          on_error: "continue",
        },
      ],
    };
    const state = fromDefinition({ name: "x", agents: {}, flow });
    expect(canon(flowToJson(state.flow!))).toEqual(canon(flow));
  });

  it("keeps a mode-only definition without a flow", () => {
    const state = fromDefinition({ name: "p", agents: { a: { role: "A" }, b: { role: "B" } }, mode: "parallel" });
    expect(state.flow).toBeNull();
    expect("flow" in toDefinition(state)).toBe(false);
    const implied = effectiveFlow(state);
    expect(implied.kind).toBe("parallel");
  });

  it("arranges conditional mode as a route from the first agent", () => {
    const state = fromDefinition({ name: "c", agents: { t: { role: "T" }, x: { role: "X" }, y: { role: "Y", description: "why" } }, mode: "conditional" });
    const flow = effectiveFlow(state);
    expect(flow.kind === "route" && flow.router).toBe("t");
    expect(flow.kind === "route" && flow.cases.map((c) => [c.name, c.description])).toEqual([["x", "X"], ["y", "why"]]);
  });
});

describe("YAML view", () => {
  it("round-trips through text", () => {
    const text = readFileSync(join(examples, "support_triage.yaml"), "utf8");
    const first = fromYaml(text);
    if (!first.ok) throw new Error(first.error);
    const again = fromYaml(toYaml(toDefinition(first.state)));
    if (!again.ok) throw new Error(again.error);
    expect(toDefinition(again.state)).toEqual(toDefinition(first.state));
  });

  it("hides the API's defaults but keeps everything else", () => {
    const state = fromDefinition({
      name: "x",
      description: "",
      version: 1,
      agents: { a: { role: "A", model: "claude", temperature: 0.7, max_tokens: 100, tools: [], output: "json" } },
      flow: "a",
      mode: "sequential",
      max_parallel: 5,
      budget: {},
      triggers: [],
    });
    expect(compactDefinition(toDefinition(state))).toEqual({ name: "x", agents: { a: { role: "A", max_tokens: 100, output: "json" } }, flow: "a" });
  });

  it("reports a parse error with its line", () => {
    const result = fromYaml("name: x\nagents:\n  a: {role: [\n");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/line \d+/);
  });

  it("reports a flow node of the wrong shape", () => {
    const result = fromYaml("name: x\nagents: {}\nflow: {sequence: [a], parallel: [b]}\n");
    expect(result).toEqual({ ok: false, error: "flow: needs exactly one of agent, sequence, parallel, foreach, route, loop" });
  });
});
