import { describe, expect, it } from "vitest";
import { parseEvents } from "./events";

describe("server-sent events", () => {
  it("splits complete events and keeps the rest for the next chunk", () => {
    const first = parseEvents('event: step\ndata: {"step_id":"a"}\n\nevent: log\ndata: {"seq"');
    expect(first.events).toEqual([{ event: "step", data: { step_id: "a" } }]);
    const second = parseEvents(`${first.rest}:1}\n\n`);
    expect(second.events).toEqual([{ event: "log", data: { seq: 1 } }]);
    expect(second.rest).toBe("");
  });

  it("reads CRLF streams and multi-line data", () => {
    const { events } = parseEvents("event: execution\r\ndata: [1,\r\ndata: 2]\r\n\r\n");
    expect(events).toEqual([{ event: "execution", data: [1, 2] }]);
  });
});
