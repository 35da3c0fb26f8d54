import { loadRuntimeConfig } from "./api/config";

// A hosted console learns its API and sign-in from /config.json; the modules that read it
// (the API client) load only after it has.
void loadRuntimeConfig().then(async () => {
  const { render } = await import("./root");
  render();
});
