// First-frame capture: decode the clip in a detached <video>, draw its first frame on a
// canvas, keep a small JPEG data: URL. Anything can go wrong here (codec missing,
// canvas unavailable, decode stalls), and every failure just means "no poster".

import type { PosterCapture } from "./videos";

const MAX_WIDTH = 480;
const TIMEOUT_MS = 15_000;

export const capturePoster: PosterCapture = (blob, signal) =>
  new Promise<string | null>((resolve) => {
    if (signal.aborted || typeof document === "undefined" || typeof URL.createObjectURL !== "function") {
      resolve(null);
      return;
    }
    const video = document.createElement("video");
    const url = URL.createObjectURL(blob);
    let finished = false;
    const finish = (poster: string | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      video.removeEventListener("loadeddata", onLoaded);
      video.removeEventListener("error", onError);
      // Release the decoder, then the URL.
      video.removeAttribute("src");
      try {
        video.load();
      } catch {
        /* nothing to release */
      }
      URL.revokeObjectURL(url);
      resolve(poster);
    };
    const onAbort = () => finish(null);
    const onError = () => finish(null);
    const onLoaded = () => finish(drawFrame(video));
    const timer = setTimeout(() => finish(null), TIMEOUT_MS);
    signal.addEventListener("abort", onAbort);
    video.addEventListener("loadeddata", onLoaded);
    video.addEventListener("error", onError);
    video.muted = true;
    video.playsInline = true;
    video.preload = "auto";
    video.src = url;
  });

function drawFrame(video: HTMLVideoElement): string | null {
  try {
    const w = video.videoWidth;
    const h = video.videoHeight;
    if (!w || !h) return null;
    const scale = Math.min(1, MAX_WIDTH / w);
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    const context = canvas.getContext("2d");
    if (!context) return null;
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const data = canvas.toDataURL("image/jpeg", 0.82);
    return data.startsWith("data:image/") ? data : null; // "data:," means it failed
  } catch {
    return null;
  }
}
