import { cognitoConfig, getToken, setToken, startCognitoSignIn } from "../api/auth";
import { ApiKeys } from "./ApiKeys";
import { ProviderKeys } from "./ProviderKeys";

function mask(token: string | null): string {
  if (!token) return "none";
  return token.length > 10 ? `${token.slice(0, 4)}…${token.slice(-4)}` : "••••";
}

function Access() {
  const cognito = cognitoConfig();
  return (
    <section className="card" aria-labelledby="access-title">
      <h2 id="access-title">Access</h2>
      <p>
        {cognito ? "Signed in with Cognito" : "Using the local token"} (<code>{mask(getToken())}</code>), kept in this browser only.
      </p>
      <div className="row">
        {cognito && (
          <button type="button" onClick={() => void startCognitoSignIn(cognito)}>
            Sign in again
          </button>
        )}
        <button type="button" onClick={() => setToken(null)}>
          Sign out
        </button>
      </div>
    </section>
  );
}

export function SettingsPage() {
  return (
    <section aria-labelledby="settings-title" className="settings">
      <h1 id="settings-title">Settings</h1>
      <Access />
      <ProviderKeys />
      <ApiKeys />
    </section>
  );
}
