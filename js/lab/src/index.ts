// The notebook extension's plugins: the metadata mirror (mirror.ts) and the Generations
// panel (panel.ts). Both need a notebook: where a host has none (Voilà, which loads this
// extension for its record renderer, mime.ts, alone), they start and do nothing, so
// nothing is registered that a kernel could write to and no panel appears.

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';

import { follow } from './mirror';
import { GenerationsPanel, PANEL_ID } from './panel';

export { COMM_TARGET } from './mirror';

const SHOW_COMMAND = 'sora-widget:show-generations';

const mirror: JupyterFrontEndPlugin<void> = {
  id: 'sora-widget:records',
  description: 'Writes sora-widget generation records into notebook and cell metadata.',
  autoStart: true,
  optional: [INotebookTracker],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker | null) => {
    if (!tracker) {
      return;
    }
    tracker.forEach(follow);
    tracker.widgetAdded.connect((_, panel) => follow(panel));
  }
};

const generations: JupyterFrontEndPlugin<void> = {
  id: 'sora-widget:generations',
  description: 'A side panel listing the generations of the notebook in focus.',
  autoStart: true,
  optional: [INotebookTracker],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker | null) => {
    if (!tracker) {
      return;
    }
    let panel: GenerationsPanel | null = null;
    // Added with the first notebook: a page without one (a console, a file browser) never
    // shows it.
    const ensure = (): GenerationsPanel => {
      if (!panel) {
        panel = new GenerationsPanel(tracker, app.serviceManager.contents);
        app.shell.add(panel, 'right', { rank: 650 });
      }
      return panel;
    };
    if (tracker.size > 0) {
      ensure();
    }
    tracker.widgetAdded.connect(() => ensure());
    app.commands.addCommand(SHOW_COMMAND, {
      label: 'Show Generations',
      caption: 'Every generation of the notebook in focus',
      isEnabled: () => tracker.size > 0,
      execute: () => {
        ensure();
        app.shell.activateById(PANEL_ID);
      }
    });
  }
};

export default [mirror, generations];
