// Lab jobs (dataset loads, training, predictions), newest first, with their live progress: read every
// second while one is queued or running, every 5 s otherwise. Cancel stops a job (training really stops).
import { useState } from "preact/hooks";
import { usePoll } from "../../router.js";
import { Notice } from "../../ui.js";
import { fmtTime, jobDone, type LabJob, rest } from "./lab-api.js";

export function LabJobsPage() {
  const [jobs, setJobs] = useState<LabJob[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    void rest<LabJob[]>("GET", "/api/v1/job/", undefined, { limit: 100 })
      .then((j) => {
        setJobs(j);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  const active = jobs?.some((j) => !jobDone(j)) ?? false;
  usePoll(load, active ? 1000 : 5000, [active]);

  const cancel = async (job: LabJob) => {
    try {
      await rest("DELETE", `/api/v1/job/${encodeURIComponent(job.id)}`);
    } catch (e) {
      setError((e as Error).message);
    }
    load();
  };

  return (
    <>
      <Notice error={error} />
      {jobs?.length === 0 && <p>No lab jobs yet.</p>}
      {jobs && jobs.length > 0 && (
        <div class="table-wrap">
          <table class="lab-jobs">
            <caption class="sr-only">Lab jobs</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Queued</th>
                <th scope="col">Last update</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.id} data-lab-job={j.id} data-status={j.status}>
                  <td>
                    {j.task_type}
                    <br />
                    <small class="mono">{j.job_name && j.job_name !== j.task_type ? j.job_name : j.id}</small>
                  </td>
                  <td>
                    <span class={`tag job-${j.status}`}>{j.status.replace("_", " ")}</span>
                  </td>
                  <td class="wrap">
                    <div class="progress">
                      <progress
                        value={j.progress}
                        max={100}
                        aria-label={`Progress of ${j.task_type} ${j.id}`}
                      />
                      <span>{Math.round(j.progress)}%</span>
                    </div>
                    {j.error_msg ? (
                      <span class="field-error">{j.error_msg}</span>
                    ) : (
                      j.progress_message && <small>{j.progress_message}</small>
                    )}
                  </td>
                  <td>{fmtTime(j.enqueued_at)}</td>
                  <td>{fmtTime(j.last_update)}</td>
                  <td class="actions">
                    {!jobDone(j) && (
                      <button type="button" class="danger" onClick={() => void cancel(j)}>
                        Cancel
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
