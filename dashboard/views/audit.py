"""The Audit tab (data managers): the server's audit trail as a table, newest first, refreshed on demand."""

from __future__ import annotations

import panel as pn
import param

from ..auth.audit import AuditLog
from ..auth.roles import AUDIT_TAB
from .base import TabView
from .escape import escape_markdown, table_titles


class AuditView(TabView):
    """Audit trail of the server: who signed in, opened which tab, applied which filters, exported what."""

    log = param.ClassSelector(class_=AuditLog, doc="The server's append-only audit trail.")
    title = AUDIT_TAB
    reads_tables = ()

    def __panel__(self):
        frame = self.log.frame()
        table = pn.widgets.Tabulator(frame, show_index=False, disabled=True, pagination="remote", page_size=25,
                                     header_filters=True, layout="fit_data_stretch", sizing_mode="stretch_width",
                                     titles=table_titles(frame.columns), name="audit-trail")
        refresh = pn.widgets.Button(name="Refresh", button_type="primary", button_style="outline", width=120)
        refresh.on_click(lambda event: setattr(table, "value", self.log.frame()))
        return pn.Column(
            pn.pane.Markdown(f"Audit trail {escape_markdown(self.log.path.name)} (append-only): one line per "
                             "sign-in, sign-out, failed sign-in, tab opened, filters applied and export, with "
                             "user, role, session and data cut. Newest first."),
            refresh, table, sizing_mode="stretch_width")
