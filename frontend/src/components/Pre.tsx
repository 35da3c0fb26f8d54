import { formatJson } from "./format";

/** A labelled, scrollable, focusable block of text or JSON. */
export function Pre({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="pre" tabIndex={0} aria-label={label}>
      {formatJson(value)}
    </pre>
  );
}
