"""The browser address kept in step with the filters without adding history entries."""

from __future__ import annotations

import param
from panel.custom import JSComponent


class AddressBar(JSComponent):
    """Shows the filters in the browser's address by replacing the current history entry.

    Panel's `pn.state.location` pushes a new entry on every change, so Back used to leave the address
    and the page disagreeing (the page still filtered). Replacing the entry keeps one entry per visit:
    the address always reopens what is on screen, and Back goes to the previous page.
    """

    query = param.String(default="", doc="The query string the address shows ('?arms=MSC', or '' for none).")

    _esm = """
    export function render({ model }) {
      const apply = () => {
        const url = window.location.pathname + model.query + window.location.hash;
        if (url !== window.location.pathname + window.location.search + window.location.hash) {
          window.history.replaceState(window.history.state, "", url);
        }
      };
      model.on("query", apply);
      apply();
      return document.createElement("span");
    }
    """
