// Text the view shows: clock times, sizes, status and error wording. Pure, so the
// wording is tested once and reads the same in the card, the gallery and the player.

import type { JobError, JobParams, Lineage, Options, SizeOption, Status } from "./protocol";

/** Seconds as m:ss (h:mm:ss from an hour on). */
export function formatClock(seconds: number): string {
  const total = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** "1:23 / ~3:00": elapsed against the typical time of a job like this one. */
export function formatElapsed(elapsed: number, expected: number): string {
  if (!(expected > 0)) return formatClock(elapsed);
  return `${formatClock(elapsed)} / ~${formatClock(expected)}`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < units.length - 1);
  const digits = value >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** "Portrait 720×1280" — the accessible name of a size radio. */
export function sizeLabel(option: SizeOption): string {
  return `${option.label} ${option.width}×${option.height}`;
}

/** The label of a size value, or the value itself (with ×) if options lack it; a clip of
 * no size of its own takes its first frame's. */
export function sizeText(value: string | null, options: Options | null): string {
  if (!value) return "the first frame's shape";
  const option = options?.sizes.find((s) => s.value === value);
  return option ? sizeLabel(option) : value.replace("x", "×");
}

export function durationLabel(seconds: number): string {
  return `${seconds} s`;
}

/** "Portrait 720×1280 · 8 s", then what else the request says that changes the clip
 * (" · silent", " · seed 7"). */
export function paramsSummary(params: JobParams, options: Options | null): string {
  const parts = [sizeText(params.size, options), durationLabel(params.duration)];
  if (params.sound === false) parts.push("silent");
  if (typeof params.seed === "number") parts.push(`seed ${params.seed}`);
  return parts.join(" · ");
}

/** Host name of an http(s) URL, shown instead of fetching it. */
export function hostOf(url: string): string | null {
  const match = /^https?:\/\/([^/?#\s]+)/i.exec(url);
  if (!match) return null;
  // Drop user:password@ — never show credentials someone pasted into a URL.
  return match[1].replace(/^.*@/, "").toLowerCase();
}

/** A short human description of a reference value (never the whole data URI). */
export function referenceText(value: string | null, name?: string | null): string {
  if (!value) return "none";
  if (name) return name;
  const host = hostOf(value);
  if (host) return `image on ${host}`;
  const mime = /^data:(image\/[a-z0-9.+-]+)/i.exec(value);
  if (mime) return `embedded ${mime[1]} image`;
  return truncate(value, 40);
}

/** "continues: a red kite rising…" — where a clip came from (empty for a fresh one). */
export function lineageText(lineage: Lineage | null | undefined): string {
  if (!lineage) return "";
  const how = lineage.how === "extend" ? "continues" : "remix of";
  return lineage.prompt ? `${how}: ${truncate(lineage.prompt, 60)}` : `${how} clip ${lineage.id}`;
}

export function truncate(text: string, max: number): string {
  const chars = Array.from(text); // by code point: never split an emoji
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

const STATUS_TEXT: Record<Status, string> = {
  PENDING: "Waiting for its turn in the batch",
  SUBMITTING: "Sending the request…",
  QUEUED: "Waiting in the queue",
  PROCESSING: "Rendering the clip",
  COMPLETED: "Done",
  FAILED: "The generation failed",
  UNKNOWN: "Status unknown",
  EXPIRED: "The result has expired",
  NOT_SUBMITTED: "Never reached the server: nothing billed",
};

/** The status code as the card shows it ("PROCESSING"); unknown codes read UNKNOWN. */
export function statusLabel(status: string): Status {
  return status in STATUS_TEXT ? (status as Status) : "UNKNOWN";
}

export function statusText(status: string): string {
  return STATUS_TEXT[statusLabel(status)];
}

const ERROR_TITLES: Record<string, string> = {
  AuthenticationError: "API key missing or rejected (401)",
  PermissionDenied: "Permission denied (403)",
  NotFound: "Model or endpoint not found (404)",
  RequestExpired: "Result expired",
  InsufficientCredits: "Not enough credits (406)",
  RateLimited: "Too many requests (429)",
  BadRequest: "Request rejected (400)",
  GenerationFailed: "Generation failed",
  GenerationTimeout: "Stopped waiting — the job may still finish",
  SubmitOutcomeUnknown: "Submit outcome unknown — may be billed",
  NetworkError: "Network error — the API could not be reached",
  DownloadError: "Download failed",
  InvalidParams: "Invalid parameters",
  ShotError: "This clip cannot be used for the shot",
  ConfigurationError: "Configuration problem",
  UnexpectedResponse: "Unexpected answer from the API",
  SoraError: "Something went wrong",
  // Raised by the view itself (dispatch.ts, videos.ts), not by the kernel.
  KernelTimeout: "The kernel did not answer",
  KernelUnavailable: "The kernel is not reachable",
  VideoTransferError: "The video did not arrive intact",
  PlaybackError: "This browser cannot play the clip",
};

/** A title that says what an error means, per error type. */
export function errorTitle(error: Pick<JobError, "type" | "http_status">): string {
  if (error.type === "ServerError") {
    return error.http_status ? `Server error (${error.http_status})` : "Server error (5xx)";
  }
  return ERROR_TITLES[error.type] ?? (error.type || "Error");
}

/** Build a JobError for problems the view itself detects. */
export function viewError(type: string, message: string, hint: string, detail: string | null = null): JobError {
  return { type, message, http_status: null, request_id: null, detail, hint, retryable: true };
}
