import { Suspense, lazy, useEffect, useState } from "react";
import { Route, Routes } from "react-router-dom";
import { cognitoConfig, finishCognitoSignIn } from "./api/auth";
import { useToken } from "./api/useToken";
import { BuilderPage } from "./builder/BuilderPage";
import { Layout } from "./components/Layout";
import { Loading } from "./components/States";
import { ExecutionPage } from "./monitor/ExecutionPage";
import { ExecutionsPage } from "./monitor/ExecutionsPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";
import { SettingsPage } from "./settings/SettingsPage";
import { SignIn } from "./settings/SignIn";

// recharts is most of the bundle: load it with the analytics page
const AnalyticsPage = lazy(() => import("./analytics/AnalyticsPage").then((m) => ({ default: m.AnalyticsPage })));

export function App() {
  const token = useToken();
  const [finishing, setFinishing] = useState(() => new URLSearchParams(window.location.search).has("code"));
  useEffect(() => {
    if (finishing) void finishCognitoSignIn(cognitoConfig()).finally(() => setFinishing(false));
  }, [finishing]);
  if (finishing) return <Loading label="Signing in…" />;
  if (!token) return <SignIn />;
  return (
    <Layout>
      <Suspense fallback={<Loading />}>
      <Routes>
        <Route path="/" element={<WorkflowsPage />} />
        <Route path="/builder/new" element={<BuilderPage />} />
        <Route path="/builder/:id" element={<BuilderPage />} />
        <Route path="/runs" element={<ExecutionsPage />} />
        <Route path="/runs/:id" element={<ExecutionPage />} />
        <Route path="/analytics" element={<AnalyticsPage />} />
        <Route path="/settings" element={<SettingsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
      </Suspense>
    </Layout>
  );
}
