/** Provider keys: write-only (the API shows a hint, never the key), set, replace, remove. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { api, unwrap } from "../api/client";
import { keys, useCatalog } from "../api/queries";
import { formatTime } from "../components/format";
import { ErrorState, Loading, errorMessage } from "../components/States";

const PROVIDERS = ["anthropic", "openai", "google", "bedrock", "openai-compatible", "ollama"];

function ProviderRow({ provider, hint, updated, onDone }: { provider: string; hint?: string; updated?: number; onDone: (msg: string) => void }) {
  const id = useId();
  const [value, setValue] = useState("");
  const client = useQueryClient();
  const done = (msg: string) => {
    setValue("");
    onDone(msg);
    void client.invalidateQueries({ queryKey: keys.providerKeys });
    void client.invalidateQueries({ queryKey: keys.catalog });
  };
  const put = useMutation({
    mutationFn: async () => unwrap(await api.PUT("/me/provider-keys/{provider}", { params: { path: { provider } }, body: { key: value } })),
    onSuccess: () => done(`${provider} key saved.`),
    onError: (e) => onDone(`${provider}: ${errorMessage(e)}`),
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/me/provider-keys/{provider}", { params: { path: { provider } } })),
    onSuccess: () => done(`${provider} key removed.`),
    onError: (e) => onDone(`${provider}: ${errorMessage(e)}`),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim().length >= 8) put.mutate();
  };
  return (
    <form className="key-row" onSubmit={submit} aria-label={`${provider} key`}>
      <span className="key-name">{provider}</span>
      <span className="muted">{hint ? `set: ${hint} · ${formatTime(updated)}` : "not set"}</span>
      <label htmlFor={`${id}-key`} className="sr-only">
        New {provider} key
      </label>
      <input id={`${id}-key`} type="password" autoComplete="off" placeholder={hint ? "replace key" : "paste key"} value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit" disabled={value.trim().length < 8 || put.isPending}>
        Save
      </button>
      {hint && (
        <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
          Remove
        </button>
      )}
    </form>
  );
}

export function ProviderKeys() {
  const [notice, setNotice] = useState<string | null>(null);
  const catalog = useCatalog();
  const stored = useQuery({
    queryKey: keys.providerKeys,
    queryFn: async () => unwrap(await api.GET("/me/provider-keys")),
  });
  const needsKey = new Set(catalog.data?.providers.filter((p) => p.needs_key).map((p) => p.name) ?? []);
  const providers = PROVIDERS.filter((p) => needsKey.size === 0 || needsKey.has(p) || stored.data?.some((k) => k.provider === p));
  return (
    <section className="card" aria-labelledby="pk-title">
      <h2 id="pk-title">Provider keys</h2>
      <p className="hint">Stored encrypted; after saving, only a hint is shown. Keys in the server’s environment are used when none is set here.</p>
      <p role="status" className="notice">
        {notice}
      </p>
      {stored.isPending ? (
        <Loading />
      ) : stored.isError ? (
        <ErrorState error={stored.error} onRetry={() => void stored.refetch()} />
      ) : (
        providers.map((p) => {
          const record = stored.data.find((k) => k.provider === p);
          return <ProviderRow key={p} provider={p} hint={record?.hint} updated={record?.updated_at} onDone={setNotice} />;
        })
      )}
    </section>
  );
}
