import { describe, expect, it } from "vitest";
import { loadRuntimeConfig, runtimeConfig } from "./config";

const respond = (body: string, type: string, status = 200): typeof fetch =>
  (async () => new Response(body, { status, headers: { "content-type": type } })) as typeof fetch;

describe("runtime config", () => {
  it("ignores the SPA's index.html that agentweaver serve answers", async () => {
    expect(await loadRuntimeConfig(respond("<!doctype html>", "text/html"))).toEqual({});
  });

  it("ignores a missing file and a network failure", async () => {
    expect(await loadRuntimeConfig(respond("", "application/json", 404))).toEqual({});
    const failing = (async () => {
      throw new TypeError("offline");
    }) as typeof fetch;
    expect(await loadRuntimeConfig(failing)).toEqual({});
  });

  it("keeps a hosted deployment's settings", async () => {
    const hosted = { apiUrl: "https://api.example.com", userPoolClientId: "c1", cognitoDomain: "https://auth.example.com" };
    await loadRuntimeConfig(respond(JSON.stringify(hosted), "application/json"));
    expect(runtimeConfig()).toEqual(hosted);
  });
});
