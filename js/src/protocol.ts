// The contract between the kernel (sora_widget/widget.py) and the view.
//
// Traits carry small state both ways; custom messages carry requests from the view
// and the kernel's replies, each tagged with the request's `id`. Video bytes travel
// only as binary buffers of custom messages, never in traits, so widget state stays
// small. Allowed values come from the kernel (`options`, built by params.py): the view
// keeps no second copy of them.

/** One allowed size, as params.view_options() describes it. */
export interface SizeOption {
  value: string; // "720x1280"
  label: string; // "Portrait"
  width: number;
  height: number;
}

/** `options` trait (read-only in the view): what the controls may offer. */
export interface Options {
  model: string;
  durations: number[];
  sizes: SizeOption[];
  default_duration: number;
  default_size: string;
  image_types: string[]; // accepted MIME types for a local reference image
  max_reference_bytes: number;
}

/** `backend` trait: where generations go. Never holds the key itself. */
export interface Backend {
  api_key_set: boolean;
  emulator: boolean; // the embedded local emulator: results are synthetic
  host: string; // "api.segmind.com" or "127.0.0.1:PORT"
}

export type Mode = "full" | "job" | "batch";

export type Status =
  | "PENDING" // mode "batch": not sent yet, waiting for its turn
  | "SUBMITTING"
  | "QUEUED"
  | "PROCESSING"
  | "COMPLETED"
  | "FAILED"
  | "UNKNOWN"
  | "EXPIRED";

/** A SoraError as the kernel reports it (errors.SoraError.to_dict()). */
export interface JobError {
  type: string; // "GenerationFailed", "AuthenticationError", "InvalidParams", …
  message: string;
  http_status: number | null;
  request_id: string | null;
  detail: string | null;
  hint: string; // what the user can do about it
  retryable: boolean;
}

export interface JobParams {
  prompt: string;
  duration: number;
  size: string;
  input_reference: string | null;
}

export interface VideoFacts {
  width: number;
  height: number;
  duration_s: number;
  codec: string;
  fps: number | null;
}

/** One generation of this widget, as the `jobs` trait lists them (oldest first). */
export interface Job {
  id: string; // local id (the ledger's key)
  request_id: string | null;
  status: Status;
  /** the kernel is polling this job right now */
  waiting: boolean;
  /** the user pressed "Stop waiting": still running and billed on the server, resumable */
  detached: boolean;
  params: JobParams;
  reference_source: string | null; // local file a reference was uploaded from
  submitted_at: string | null; // ISO 8601 UTC
  completed_at: string | null;
  /** seconds since submit, as the kernel measured it at `jobs_clock_ms` */
  elapsed_s: number;
  /** typical latency of a job like this one (learned from past jobs), seconds */
  expected_s: number;
  video_path: string | null; // relative to the notebook
  filename: string | null; // basename, for the download button
  sha256: string | null;
  bytes: number | null;
  video: VideoFacts | null;
  error: JobError | null;
  synthetic: boolean;
  /** the exact Python call that regenerates this clip */
  reproduce: string;
}

/** `batch` trait (mode "batch"): the batch id and where it stands, counted by the kernel. */
export interface BatchProgress {
  id: string;
  total: number;
  /** items whose work has ended: completed + failed + unknown */
  done: number;
  completed: number; // clips saved
  failed: number; // ended without a clip (failed, expired, timed out, not saved)
  unknown: number; // submit outcome unknown: may be running and billed
  running: number; // being worked on now
}

/** Widget traits the view reads (and, for the first four, writes). */
export interface Model {
  prompt: string;
  duration: number;
  size: string;
  input_reference: string; // URL or data URI; "" for none
  reference_name: string; // shown name of an uploaded local image; "" otherwise
  options: Options;
  backend: Backend;
  jobs: Job[];
  /** kernel wall clock (ms since epoch) when `jobs` was last sent: corrects clock skew */
  jobs_clock_ms: number;
  /** "full": controls + jobs + gallery; "job": one compact job card (the %sora view);
   * "batch": a progress header and a gallery of every item (sw.generate_many) */
  mode: Mode;
  batch: Partial<BatchProgress>;
}

// -- view → kernel ----------------------------------------------------------------------

export type Request =
  | { kind: "generate"; id: string; params: JobParams }
  | { kind: "video"; id: string; job: string } // reply: video_chunk messages
  | { kind: "stop"; id: string; job: string } // stop waiting (the server job goes on)
  | { kind: "resume"; id: string; job: string } // wait again for a detached/timed-out job
  | { kind: "upload"; id: string; name: string; mime: string } // buffers[0] = image bytes
  | { kind: "use_emulator"; id: string };

// -- kernel → view ----------------------------------------------------------------------

export type Reply =
  | { kind: "reply"; id: string; ok: true; job?: string; url?: string }
  | { kind: "reply"; id: string; ok: false; error: JobError }
  /** one piece of a clip's bytes (buffers[0]); `index` from 0 to `total` - 1 */
  | { kind: "video_chunk"; id: string; index: number; total: number; mime: string; size: number };
