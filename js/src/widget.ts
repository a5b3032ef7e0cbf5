// anywidget entry. Kept thin: the view lives in its own modules.
import type { Render } from "@anywidget/types";

const render: Render = ({ el }) => {
  el.classList.add("sora-widget");
  el.textContent = "sora-widget";
  return () => {
    el.classList.remove("sora-widget");
  };
};

export default { render };
