import { describe, expect, it } from "vitest";
import type { StepPublic } from "../api/types";
import { baseStepId } from "../builder/walk";
import { foldStatus, statusByStep } from "./status";

const step = (step_id: string, status: string) => ({ step_id, status }) as StepPublic;

describe("step status on graph nodes", () => {
  it("strips foreach and loop suffixes", () => {
    expect(baseStepId("summarise[3]")).toBe("summarise");
    expect(baseStepId("review[0]#2")).toBe("review");
    expect(baseStepId("writer_2")).toBe("writer_2");
  });

  it("folds several steps: running beats failed beats succeeded", () => {
    expect(foldStatus(["succeeded", "running"])).toBe("running");
    expect(foldStatus(["succeeded", "failed"])).toBe("failed");
    expect(statusByStep([step("s[0]", "succeeded"), step("s[1]", "succeeded"), step("w", "failed")])).toEqual(
      new Map([
        ["s", "succeeded"],
        ["w", "failed"],
      ]),
    );
  });
});
