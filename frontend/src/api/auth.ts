/** Where the console's credential comes from: the local token handed over in the URL
 * (`/#token=…`, printed by `agentweaver serve`), pasted in Settings, or a Cognito sign-in. */

import { runtimeConfig } from "./config";

const KEY = "agentweaver.token";
const VERIFIER = "agentweaver.pkce";

export function getToken(): string | null {
  return window.localStorage.getItem(KEY);
}

export function setToken(token: string | null): void {
  if (token) window.localStorage.setItem(KEY, token.trim());
  else window.localStorage.removeItem(KEY);
  window.dispatchEvent(new Event("agentweaver-token"));
}

/** Take `#token=…` from the address (and remove it, so it is not left in history). */
export function adoptTokenFromHash(location: Location = window.location): boolean {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return false;
  setToken(decodeURIComponent(match[1]));
  window.history.replaceState(null, "", location.pathname + location.search);
  return true;
}

export interface CognitoConfig {
  domain: string;
  clientId: string;
}

/** A hosted deployment's Cognito hosted UI: from `/config.json` (written by the CDK stack), or
 * VITE_COGNITO_DOMAIN and VITE_COGNITO_CLIENT_ID at build time. */
export function cognitoConfig(): CognitoConfig | null {
  const hosted = runtimeConfig();
  const domain = hosted.cognitoDomain ?? (import.meta.env.VITE_COGNITO_DOMAIN as string | undefined);
  const clientId = hosted.userPoolClientId ?? (import.meta.env.VITE_COGNITO_CLIENT_ID as string | undefined);
  return domain && clientId ? { domain: domain.replace(/\/$/, ""), clientId } : null;
}

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const array = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let text = "";
  array.forEach((b) => (text += String.fromCharCode(b)));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const redirectUri = (): string => `${window.location.origin}/`;

/** Start the Cognito hosted UI sign-in (authorization code with PKCE). */
export async function startCognitoSignIn(config: CognitoConfig): Promise<void> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  window.sessionStorage.setItem(VERIFIER, verifier);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: "openid email",
    code_challenge_method: "S256",
    code_challenge: challenge,
  });
  window.location.assign(`${config.domain}/oauth2/authorize?${params.toString()}`);
}

/** Finish a Cognito sign-in when the address carries `?code=`; true when a token was stored. */
export async function finishCognitoSignIn(config: CognitoConfig | null): Promise<boolean> {
  const code = new URLSearchParams(window.location.search).get("code");
  const verifier = window.sessionStorage.getItem(VERIFIER);
  if (!config || !code || !verifier) return false;
  window.sessionStorage.removeItem(VERIFIER);
  window.history.replaceState(null, "", window.location.pathname);
  const response = await fetch(`${config.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.clientId,
      code,
      redirect_uri: redirectUri(),
      code_verifier: verifier,
    }),
  });
  if (!response.ok) return false;
  const tokens = (await response.json()) as { access_token?: string };
  if (!tokens.access_token) return false;
  setToken(tokens.access_token);
  return true;
}
