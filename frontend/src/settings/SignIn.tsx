import { type FormEvent, useState } from "react";
import { cognitoConfig, setToken, startCognitoSignIn } from "../api/auth";

/** Shown without a credential: paste the local token, or sign in with Cognito (hosted). */
export function SignIn() {
  const [value, setValue] = useState("");
  const cognito = cognitoConfig();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim()) setToken(value.trim());
  };
  return (
    <main className="signin" id="main">
      <h1>AgentWeaver</h1>
      {cognito && (
        <button type="button" className="primary" onClick={() => void startCognitoSignIn(cognito)}>
          Sign in
        </button>
      )}
      <form onSubmit={submit} className="card">
        <p>
          Open the link <code>agentweaver serve</code> prints (<code>http://127.0.0.1:8000/#token=…</code>), or paste the token
          or an API key (<code>aw_…</code>) here.
        </p>
        <label htmlFor="token">Access token</label>
        <input id="token" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} />
        <button type="submit" className="primary" disabled={!value.trim()}>
          Continue
        </button>
      </form>
    </main>
  );
}
