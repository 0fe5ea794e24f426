// The lab section of the dashboard (ML workbench, docs/lab.md): one top-level page whose sub-pages are
// /dashboard/lab (datasets), /dashboard/lab/datasets/<id> (data grid), /dashboard/lab/notebooks[/<id>],
// /dashboard/lab/sessions, /dashboard/lab/generative[/<id>],
// /dashboard/lab/runs, /dashboard/lab/jobs, /dashboard/lab/plugins.
import { currentPage } from "../../router.js";
import { LabDatasetPage } from "./dataset.js";
import { LabDatasetsPage } from "./datasets.js";
import { LabGenerativePage, LabGenerativeSessionPage } from "./generative.js";
import { LabJobsPage } from "./jobs.js";
import "./lab.css";
import { LabLink } from "./nav.js";
import { LabNotebookPage, LabNotebooksPage } from "./notebooks.js";
import { LabPluginsPage } from "./plugins.js";
import { LabRunsPage } from "./runs.js";
import { LabSessionsPage } from "./sessions.js";

const SECTIONS = [
  { id: "datasets", title: "Datasets" },
  { id: "notebooks", title: "Notebooks" },
  { id: "sessions", title: "Model sessions" },
  { id: "runs", title: "Runs" },
  { id: "generative", title: "Generative" },
  { id: "jobs", title: "Jobs" },
  { id: "plugins", title: "Plugins" },
];

export function LabPage() {
  const parts = currentPage().split("/").slice(1);
  const section = parts[0] ?? "datasets";
  const id = Number(parts[1]);
  let view: preact.JSX.Element;
  if (section === "datasets" && Number.isInteger(id) && id > 0) view = <LabDatasetPage id={id} />;
  else if (section === "datasets") view = <LabDatasetsPage />;
  else if (section === "notebooks" && Number.isInteger(id) && id > 0) view = <LabNotebookPage id={id} />;
  else if (section === "notebooks") view = <LabNotebooksPage />;
  else if (section === "sessions") view = <LabSessionsPage />;
  else if (section === "generative" && Number.isInteger(id) && id > 0)
    view = <LabGenerativeSessionPage id={id} />;
  else if (section === "generative") view = <LabGenerativePage />;
  else if (section === "runs") view = <LabRunsPage />;
  else if (section === "jobs") view = <LabJobsPage />;
  else if (section === "plugins") view = <LabPluginsPage />;
  else view = <p>No such lab page.</p>;
  const title = SECTIONS.find((s) => s.id === section)?.title;
  return (
    <>
      <nav class="lab-nav" aria-label="Lab">
        {SECTIONS.map((s) => (
          <LabLink key={s.id} to={s.id === "datasets" ? "lab" : `lab/${s.id}`} current={s.id === section}>
            {s.title}
          </LabLink>
        ))}
      </nav>
      {title && !(["datasets", "notebooks", "generative"].includes(section) && parts[1]) && (
        <h2 class="lab-title">{title}</h2>
      )}
      {view}
    </>
  );
}
