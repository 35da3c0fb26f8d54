import { type KeyboardEvent, useId } from "react";

export interface Tab<T extends string> {
  id: T;
  label: string;
}

/** An ARIA tab list: arrow keys move between tabs. */
export function Tabs<T extends string>({ tabs, current, onChange, label }: { tabs: Tab<T>[]; current: T; onChange: (id: T) => void; label: string }) {
  const prefix = useId();
  const onKey = (event: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const delta = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!delta) return;
    const next = tabs[(index + delta + tabs.length) % tabs.length];
    if (next) {
      onChange(next.id);
      document.getElementById(`${prefix}-${next.id}`)?.focus();
    }
  };
  return (
    <div role="tablist" aria-label={label} className="tabs">
      {tabs.map((tab, i) => (
        <button
          key={tab.id}
          id={`${prefix}-${tab.id}`}
          type="button"
          role="tab"
          aria-selected={tab.id === current}
          tabIndex={tab.id === current ? 0 : -1}
          onClick={() => onChange(tab.id)}
          onKeyDown={(e) => onKey(e, i)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}
