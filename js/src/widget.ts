// anywidget entry. Kept thin: `initialize` opens the model's session (video cache,
// clock), `render` mounts one view (and under it the record output, where the kernel
// says the host shows none of its own: records.ts); each returns the cleanup anywidget calls.
import type { Initialize, Render } from "@anywidget/types";
import "./widget.css";
import type { Traits } from "./model";
import { capturePoster } from "./poster";
import { mountRecordOutput } from "./records";
import { acquireSession, openSession } from "./session";
import { SoraView } from "./view/app";

const sessionOptions = { capture: capturePoster };

const initialize: Initialize<Traits> = ({ model }) => openSession(model, sessionOptions);

const render: Render<Traits> = ({ model, el }) => {
  const { session, release } = acquireSession(model, sessionOptions);
  const view = new SoraView(model, el, session);
  const unmountRecords = mountRecordOutput(model, el);
  return () => {
    unmountRecords();
    view.destroy();
    release();
  };
};

export default { initialize, render };
