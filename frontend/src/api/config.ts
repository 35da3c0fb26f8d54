/** A hosted console's deploy-time settings, read from `/config.json` before the app starts.
 *
 * The CDK stack writes that file next to the app (API URL, Cognito client and domain), so one
 * build of the console serves every stage. `agentweaver serve` has no such file: the API is
 * the same origin and the local token signs in. */

export interface RuntimeConfig {
  apiUrl?: string;
  region?: string;
  userPoolId?: string;
  userPoolClientId?: string;
  cognitoDomain?: string;
  stage?: string;
}

let loaded: RuntimeConfig = {};

export function runtimeConfig(): RuntimeConfig {
  return loaded;
}

/** Fetch `/config.json`; anything but a JSON object (the SPA's index.html locally) is ignored. */
export async function loadRuntimeConfig(fetcher: typeof fetch = fetch): Promise<RuntimeConfig> {
  try {
    const response = await fetcher("/config.json", { cache: "no-store" });
    const type = response.headers.get("content-type") ?? "";
    if (response.ok && type.includes("json")) {
      const body: unknown = await response.json();
      if (typeof body === "object" && body !== null && !Array.isArray(body)) loaded = body as RuntimeConfig;
    }
  } catch {
    // no config (offline, or served without one): same origin, local token
  }
  return loaded;
}
