// The contract between the kernel (sora_widget/protocol.py) and the view.
//
// Every type here is generated from the Python TypedDicts (protocol.generated.ts, by
// `make protocol`); a test fails when the two disagree. Traits carry small state both
// ways; custom messages carry requests from the view and the kernel's replies, each
// tagged with the request's `id`. Video bytes travel only as binary buffers of custom
// messages, never in traits. Allowed values come from the kernel (`options`, built by
// params.py): the view keeps no second copy of them.

export * from "./protocol.generated";
import type { JobView, Traits, UploadRequest } from "./protocol.generated";

/** One generation as the `jobs` trait lists them (the kernel's protocol.JobView). */
export type Job = JobView;
/** Widget traits the view reads (and, for the first five, writes). */
export type Model = Traits;
/** The image fields a picked file is uploaded for (protocol.ImageField). */
export type ImageField = UploadRequest["field"];
