/** The API's messages for one field, announced and tied to the input by id. */
export function FieldErrors({ id, messages }: { id: string; messages?: string[] | undefined }) {
  if (!messages?.length) return null;
  return (
    <ul className="field-errors" id={id} role="alert">
      {messages.map((m) => (
        <li key={m}>{m}</li>
      ))}
    </ul>
  );
}
