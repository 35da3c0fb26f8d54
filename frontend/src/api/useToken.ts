import { useSyncExternalStore } from "react";
import { getToken } from "./auth";

function subscribe(callback: () => void): () => void {
  window.addEventListener("agentweaver-token", callback);
  window.addEventListener("storage", callback);
  return () => {
    window.removeEventListener("agentweaver-token", callback);
    window.removeEventListener("storage", callback);
  };
}

/** The current credential; re-renders when it is set or cleared. */
export function useToken(): string | null {
  return useSyncExternalStore(subscribe, getToken, () => null);
}
