import type { Validation } from "./useValidation";
import type { PlacedIssues } from "./validation";

/** The validation summary: valid / checking / the problems the API found that have no field. */
export function IssuesPanel({ validation, placed }: { validation: Validation; placed: PlacedIssues }) {
  return (
    <section className={`issues issues-${validation.state}`} aria-label="Validation" aria-live="polite">
      {validation.state === "checking" && <p>Checking…</p>}
      {validation.state === "valid" && <p className="ok">✓ Valid{validation.steps !== undefined ? ` · ${validation.steps} agent steps` : ""}</p>}
      {validation.state === "error" && <p role="alert">Could not validate: {validation.error}</p>}
      {validation.state === "invalid" && (
        <>
          <p className="bad">
            {placed.count} problem{placed.count === 1 ? "" : "s"} to fix{placed.count > placed.general.length ? " (marked on the fields and nodes)" : ""}:
          </p>
          <ul>
            {validation.issues.map((issue, i) => (
              <li key={`${issue.path}-${i}`}>
                <code>{issue.path}</code> {issue.message}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
