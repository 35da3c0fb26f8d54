import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { getToken } from "./auth";
import { runtimeConfig } from "./config";
import type { Issue } from "./types";

/** Same origin with `agentweaver serve`; a hosted console's `/config.json` (or VITE_API_URL at
 * build time) names the API. Read once: `main.tsx` loads the config before this module. */
export const API_URL: string = (
  runtimeConfig().apiUrl ??
  (import.meta.env.VITE_API_URL as string | undefined) ??
  ""
).replace(/\/$/, "");

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: API_URL || window.location.origin });
api.use(auth);

/** An API error: the `{detail, type, issues}` body every failure has. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface ErrorBody {
  detail?: unknown;
  type?: unknown;
  issues?: unknown;
}

export function toApiError(error: unknown, response: Response): ApiError {
  const body = (typeof error === "object" && error !== null ? error : {}) as ErrorBody;
  const detail = typeof body.detail === "string" ? body.detail : `${response.status} ${response.statusText}`;
  const issues = Array.isArray(body.issues) ? (body.issues as Issue[]) : [];
  return new ApiError(response.status, typeof body.type === "string" ? body.type : "HTTPError", detail, issues);
}

/** The data of an openapi-fetch result, or throw its error as an ApiError (for TanStack Query). */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) throw toApiError(result.error, result.response);
  return result.data as T;
}
