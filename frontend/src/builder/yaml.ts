/** The YAML view: definition <-> text, with the parse error (and line) when it does not parse. */
import { parse, stringify, YAMLParseError } from "yaml";
import type { WorkflowDefinition } from "../api/types";
import { fromDefinition, DefinitionShapeError } from "./convert";
import { AGENT_DEFAULTS, type BuilderState } from "./model";

export function toYaml(definition: WorkflowDefinition): string {
  return stringify(definition, { lineWidth: 100, aliasDuplicateObjects: false });
}

const TOP_DEFAULTS: Record<string, unknown> = {
  description: "",
  version: 1,
  max_parallel: 5,
  on_error: "fail",
  budget: {},
  tool_settings: {},
  triggers: [],
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The definition without the fields that only repeat the API's defaults (`mode` too when
 * a `flow` is given, since the flow wins). */
export function compactDefinition(definition: WorkflowDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(definition)) {
    if (key in TOP_DEFAULTS && same(value, TOP_DEFAULTS[key])) continue;
    if (key === "mode" && (value === "sequential" || definition.flow)) continue;
    if (key === "agents" && value && typeof value === "object") {
      out.agents = Object.fromEntries(
        Object.entries(value as Record<string, Record<string, unknown>>).map(([name, spec]) => [
          name,
          Object.fromEntries(
            Object.entries(spec).filter(([k, v]) => v !== null && !(k in AGENT_DEFAULTS && same(v, AGENT_DEFAULTS[k as keyof typeof AGENT_DEFAULTS]))),
          ),
        ]),
      );
      continue;
    }
    if (value !== null && value !== undefined) out[key] = value;
  }
  return out;
}

export type YamlResult = { ok: true; state: BuilderState } | { ok: false; error: string };

export function fromYaml(text: string): YamlResult {
  try {
    const parsed: unknown = parse(text);
    return { ok: true, state: fromDefinition(parsed) };
  } catch (exc) {
    if (exc instanceof YAMLParseError) {
      const line = exc.linePos?.[0]?.line;
      return { ok: false, error: `${line ? `line ${line}: ` : ""}${exc.message.split("\n")[0] ?? ""}` };
    }
    if (exc instanceof DefinitionShapeError) return { ok: false, error: exc.message };
    throw exc;
  }
}
