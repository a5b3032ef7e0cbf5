// What a view asks of the kernel, one method per request kind: each sends its request
// (dispatch.ts: an id, a timeout per kind), records that it is under way in the view
// state, and says how it ended — in the state (errors shown where the request was made)
// and in words for screen readers. SoraView decides when to ask; this module how.

import { Dispatcher, RequestError, type OkReply, type RequestBody } from "../dispatch";
import { requestParams, type FormState } from "../form";
import { viewError } from "../format";
import type { Scope } from "../lifecycle";
import type { ImageField, Job, JobError, ModelOption, Options } from "../protocol";
import type { ReferenceCache } from "../session";
import type { ViewAction, ViewState } from "../state";
import { checkImageFile } from "../validate";

export interface RequestsHost {
  state(): ViewState;
  dispatch(action: ViewAction): void;
  announce(message: string): void;
  options(): Options | null;
  references: ReferenceCache;
}

export class Requests {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly scope: Scope,
    private readonly host: RequestsHost,
  ) {}

  /** A new clip of `model` from the controls' values (`remixOf`: the job they were filled from). */
  generate(form: FormState, model: ModelOption, remixOf: Job | null): void {
    this.host.dispatch({ type: "generateStarted" });
    this.send(
      { kind: "generate", model: model.name, params: requestParams(form, model), remix_of: remixOf ? remixOf.id : null },
      () => {
        this.host.dispatch({ type: "generateFinished" });
        this.host.announce("Submitted. The job is listed below.");
      },
      (error) => this.host.dispatch({ type: "generateFinished", error }),
    );
  }

  /** The next shot of `job`, starting from its last frame. */
  continueFrom(job: string, prompt: string): void {
    this.jobRequest(job, "continue", { kind: "continue", job, prompt }, "The next shot started from this clip's last frame; it is listed with the jobs");
  }

  /** The next clip ends on `job`'s last frame: the kernel puts it in the Last frame field. */
  endFrame(job: string): void {
    this.jobRequest(job, "end_frame", { kind: "end_frame", job }, "The next clip ends on this clip's last frame: it is in the Last frame field");
  }

  stop(job: string): void {
    this.jobRequest(job, "stop", { kind: "stop", job }, "Stopped waiting; the job keeps running on the server");
  }

  resume(job: string): void {
    this.jobRequest(job, "resume", { kind: "resume", job }, "Waiting for the job again");
  }

  runStoryboard(shots: string[], done: (error: JobError | null) => void): void {
    this.send({ kind: "run_storyboard", shots }, () => done(null), (error) => done(error));
  }

  useEmulator(): void {
    if (this.host.state().switchingBackend) return;
    this.host.dispatch({ type: "backendStarted" });
    this.send(
      { kind: "use_emulator" },
      () => {
        this.host.dispatch({ type: "backendFinished" });
        this.host.announce("Using the local emulator: clips are synthetic");
      },
      (error) => this.host.dispatch({ type: "backendFinished", error }),
    );
  }

  /** Upload a local image for an image field; the kernel writes its URL into that field. */
  pickFile(file: File, field: ImageField): void {
    if (this.host.state().uploading) return;
    const problem = checkImageFile(file, this.host.options());
    if (problem) {
      const error = viewError("ReferenceImage", problem, "Choose a PNG, JPEG, WebP or GIF image within the size limit.");
      this.host.dispatch({ type: "imageError", field, error });
      this.host.announce(problem);
      return;
    }
    this.host.dispatch({ type: "uploadStarted", field, name: file.name });
    const finished = (error?: JobError) => this.host.dispatch({ type: "uploadFinished", field, error });
    file.arrayBuffer().then(
      (bytes) => {
        if (this.scope.disposed) return;
        this.send(
          { kind: "upload", name: file.name, mime: file.type, field },
          (reply) => {
            if (reply.url) this.host.references.remember(reply.url, file, file.name);
            finished();
            this.host.announce(`Image ${file.name} is ready`);
          },
          finished,
          [bytes],
        );
      },
      (error: unknown) => finished(viewError("ReferenceImage", `${file.name} could not be read: ${String(error)}`, "Choose the file again.")),
    );
  }

  /** A request about one job: one at a time per job, its failure shown in the job's card. */
  private jobRequest(job: string, action: "stop" | "resume" | "continue" | "end_frame", body: RequestBody, done: string): void {
    if (this.host.state().busy[job]) return;
    this.host.dispatch({ type: "jobActionStarted", job, action });
    this.send(
      body,
      () => {
        this.host.dispatch({ type: "jobActionFinished", job });
        this.host.announce(done);
      },
      (error) => this.host.dispatch({ type: "jobActionFinished", job, error }),
    );
  }

  /** Send a request; failures other than cancellation reach `failed` as a JobError. */
  private send(body: RequestBody, done: (reply: OkReply) => void, failed: (error: JobError) => void, buffers?: ArrayBuffer[]): void {
    this.dispatcher.request(body, { buffers }).then(
      (reply) => {
        if (!this.scope.disposed) done(reply);
      },
      (error: unknown) => {
        if (this.scope.disposed) return;
        if (error instanceof RequestError) {
          if (!error.cancelled) failed(error.error);
          return;
        }
        failed(viewError("SoraError", String(error), "This is a bug in sora-widget's view; please report it."));
      },
    );
  }
}
