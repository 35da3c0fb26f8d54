/** Platform API keys: create (the secret is shown once), list, revoke. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { api, unwrap } from "../api/client";
import { keys } from "../api/queries";
import type { ApiKeyCreated } from "../api/types";
import { formatTime } from "../components/format";
import { Empty, ErrorState, Loading, errorMessage } from "../components/States";

export function ApiKeys() {
  const id = useId();
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useQuery({ queryKey: keys.apiKeys, queryFn: async () => unwrap(await api.GET("/me/api-keys")) });
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/me/api-keys", { body: { name } })),
    onSuccess: (key) => {
      setCreated(key);
      setName("");
      setNotice(null);
      void client.invalidateQueries({ queryKey: keys.apiKeys });
    },
    onError: (e) => setNotice(errorMessage(e)),
  });
  const revoke = useMutation({
    mutationFn: async (keyId: string) => unwrap(await api.DELETE("/me/api-keys/{key_id}", { params: { path: { key_id: keyId } } })),
    onSuccess: () => {
      setNotice("Key revoked.");
      void client.invalidateQueries({ queryKey: keys.apiKeys });
    },
    onError: (e) => setNotice(errorMessage(e)),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>API keys</h2>
      <form onSubmit={submit} className="row">
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} value={name} maxLength={100} placeholder="ci" onChange={(e) => setName(e.target.value)} />
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      {created && (
        <div className="secret" role="alert">
          <p>
            Copy the key <strong>{created.name || created.prefix}</strong> now; it is not shown again:
          </p>
          <code data-testid="new-api-key">{created.key}</code>
          <button type="button" onClick={() => void navigator.clipboard?.writeText(created.key)}>
            Copy
          </button>
        </div>
      )}
      <p role="status" className="notice">
        {notice}
      </p>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <Empty title="No API keys." />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="sr-only">Revoke</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((k) => (
              <tr key={k.key_id}>
                <td>{k.name || "–"}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{formatTime(k.created_at)}</td>
                <td>{formatTime(k.last_used_at)}</td>
                <td>
                  <button type="button" className="danger" aria-label={`Revoke ${k.name || k.prefix}`} onClick={() => window.confirm("Revoke this key? Clients using it stop working.") && revoke.mutate(k.key_id)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
