// View-local state as pure reducers: which clip the main player shows, which two are
// compared, what requests are in flight, and each job's video transfer. Traits stay the
// kernel's; this is only what one view (or, for videos, one model) remembers.

import type { ImageField, Job, JobError } from "./protocol";
import { isTerminal } from "./timing";

// -- one view ------------------------------------------------------------------------------

export type JobAction = "stop" | "resume" | "continue" | "end_frame";

export interface ViewState {
  /** the job the main player shows; null: the newest completed one */
  selected: string | null;
  /** up to two completed jobs picked for side-by-side playback, in pick order */
  compare: string[];
  generating: boolean;
  /** the image being uploaded, and the field it is for */
  uploading: { field: ImageField; name: string } | null;
  switchingBackend: boolean;
  /** the last failed generate / use_emulator request, shown by the Generate button */
  formError: JobError | null;
  /** why the image picked or dropped for a field was not used */
  imageErrors: Partial<Record<ImageField, JobError>>;
  /** a stop or resume request in flight, per job */
  busy: Record<string, JobAction>;
  /** a failed stop/resume/continue request, shown in the job's card */
  jobErrors: Record<string, JobError>;
  /** the job whose parameters fill the controls (Remix): the next Generate derives from it */
  remixOf: string | null;
}

export const initialViewState: ViewState = {
  selected: null,
  compare: [],
  generating: false,
  uploading: null,
  switchingBackend: false,
  formError: null,
  imageErrors: {},
  busy: {},
  jobErrors: {},
  remixOf: null,
};

export type ViewAction =
  | { type: "select"; job: string }
  | { type: "toggleCompare"; job: string }
  | { type: "clearCompare" }
  | { type: "generateStarted" }
  | { type: "generateFinished"; error?: JobError }
  | { type: "uploadStarted"; field: ImageField; name: string }
  | { type: "uploadFinished"; field: ImageField; error?: JobError }
  | { type: "imageError"; field: ImageField; error: JobError | null }
  | { type: "backendStarted" }
  | { type: "backendFinished"; error?: JobError }
  | { type: "jobActionStarted"; job: string; action: JobAction }
  | { type: "jobActionFinished"; job: string; error?: JobError }
  | { type: "remix"; job: string }
  | { type: "clearRemix" }
  | { type: "jobsChanged"; jobs: readonly Job[] };

export function viewReducer(state: ViewState, action: ViewAction): ViewState {
  switch (action.type) {
    case "select":
      // Choosing one clip to play is a clear intent: it leaves compare mode.
      return { ...state, selected: action.job, compare: [] };
    case "toggleCompare": {
      if (state.compare.includes(action.job)) {
        return { ...state, compare: state.compare.filter((id) => id !== action.job) };
      }
      // A third pick replaces the older of the two.
      return { ...state, compare: [...state.compare, action.job].slice(-2) };
    }
    case "clearCompare":
      return { ...state, compare: [] };
    case "generateStarted":
      return { ...state, generating: true, formError: null };
    case "generateFinished":
      // After a new submit the player goes back to following the newest clip.
      if (action.error) return { ...state, generating: false, formError: action.error };
      // the remix is made: the controls are the user's own again
      return { ...state, generating: false, formError: null, selected: null, remixOf: null };
    case "uploadStarted":
      return { ...state, uploading: { field: action.field, name: action.name }, imageErrors: withError(state.imageErrors, action.field, null) };
    case "uploadFinished":
      return { ...state, uploading: null, imageErrors: withError(state.imageErrors, action.field, action.error ?? null) };
    case "imageError":
      return { ...state, imageErrors: withError(state.imageErrors, action.field, action.error) };
    case "backendStarted":
      return { ...state, switchingBackend: true, formError: null };
    case "backendFinished":
      return { ...state, switchingBackend: false, formError: action.error ?? null };
    case "jobActionStarted": {
      const jobErrors = { ...state.jobErrors };
      delete jobErrors[action.job];
      return { ...state, busy: { ...state.busy, [action.job]: action.action }, jobErrors };
    }
    case "jobActionFinished": {
      const busy = { ...state.busy };
      delete busy[action.job];
      const jobErrors = { ...state.jobErrors };
      if (action.error) jobErrors[action.job] = action.error;
      else delete jobErrors[action.job];
      return { ...state, busy, jobErrors };
    }
    case "remix":
      return { ...state, remixOf: action.job, formError: null };
    case "clearRemix":
      return state.remixOf === null ? state : { ...state, remixOf: null };
    case "jobsChanged": {
      // Forget choices that point at jobs which are gone or can no longer play.
      const playable = new Set(action.jobs.filter(isPlayable).map((j) => j.id));
      const selected = state.selected !== null && playable.has(state.selected) ? state.selected : null;
      const compare = state.compare.filter((id) => playable.has(id));
      const remixOf = state.remixOf !== null && action.jobs.some((j) => j.id === state.remixOf) ? state.remixOf : null;
      if (selected === state.selected && compare.length === state.compare.length && remixOf === state.remixOf) return state;
      return { ...state, selected, compare, remixOf };
    }
  }
}

function withError(
  errors: Partial<Record<ImageField, JobError>>,
  field: ImageField,
  error: JobError | null,
): Partial<Record<ImageField, JobError>> {
  const next = { ...errors };
  if (error) next[field] = error;
  else delete next[field];
  return next;
}

/** A finished clip the next shot can start from (Continue) or whose request can be
 * asked again with changes (Remix); a film is neither. */
export function canDerive(job: Pick<Job, "status" | "video_path" | "kind">): boolean {
  return job.kind !== "film" && isPlayable(job);
}

/** A job whose clip the kernel can send. */
export function isPlayable(job: Pick<Job, "status" | "video_path">): boolean {
  return job.status === "COMPLETED" && !!job.video_path;
}

export type Stage =
  | { mode: "empty" }
  | { mode: "single"; job: Job }
  | { mode: "compare"; jobs: [Job, Job] };

/** What the main player shows: the chosen pair, the chosen clip, or the newest clip. */
export function stageOf(jobs: readonly Job[], state: Pick<ViewState, "selected" | "compare">): Stage {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  if (state.compare.length === 2) {
    const a = byId.get(state.compare[0]);
    const b = byId.get(state.compare[1]);
    if (a && b && isPlayable(a) && isPlayable(b)) return { mode: "compare", jobs: [a, b] };
  }
  const chosen = state.selected !== null ? byId.get(state.selected) : undefined;
  if (chosen && isPlayable(chosen)) return { mode: "single", job: chosen };
  for (let i = jobs.length - 1; i >= 0; i -= 1) {
    if (isPlayable(jobs[i])) return { mode: "single", job: jobs[i] };
  }
  return { mode: "empty" };
}

/** Whether a job may be resumed: accepted by the server, not awaited, not known finished. */
export function canResume(job: Job): boolean {
  if (job.waiting || !job.request_id) return false;
  if (job.detached) return true;
  if (job.status === "COMPLETED") return !job.video_path; // finished, but not downloaded
  return !isTerminal(job.status);
}

// -- one model: video transfers --------------------------------------------------------------

export type VideoEntry =
  | { phase: "idle" }
  | { phase: "loading"; received: number; size: number }
  | { phase: "ready"; blob: Blob; poster: string | null; posterDone: boolean }
  | { phase: "error"; error: JobError };

export const idleVideo: VideoEntry = { phase: "idle" };

export type VideoAction =
  | { type: "requested" }
  | { type: "progress"; received: number; size: number }
  | { type: "arrived"; blob: Blob }
  | { type: "failed"; error: JobError }
  | { type: "poster"; poster: string | null }
  | { type: "reset" };

export function videoReducer(entry: VideoEntry, action: VideoAction): VideoEntry {
  switch (action.type) {
    case "requested":
      return entry.phase === "idle" ? { phase: "loading", received: 0, size: -1 } : entry;
    case "progress":
      return entry.phase === "loading" ? { phase: "loading", received: action.received, size: action.size } : entry;
    case "arrived":
      return entry.phase === "loading" ? { phase: "ready", blob: action.blob, poster: null, posterDone: false } : entry;
    case "failed":
      return entry.phase === "loading" ? { phase: "error", error: action.error } : entry;
    case "poster":
      return entry.phase === "ready" ? { ...entry, poster: action.poster, posterDone: true } : entry;
    case "reset":
      return entry.phase === "error" ? idleVideo : entry;
  }
}
