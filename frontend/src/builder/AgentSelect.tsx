export function AgentSelect({ id, label, value, agents, onChange }: { id: string; label: string; value: string; agents: string[]; onChange: (name: string) => void }) {
  const options = agents.includes(value) || !value ? agents : [value, ...agents];
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {!value && <option value="">choose an agent</option>}
        {options.map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
      </select>
    </div>
  );
}
