"""The served app and its notebook twin: `build_app(data=...)` composes store, filters and tabs.

Served with `panel serve dashboard/app.py` (bundled trial) or `trial-dashboard serve [DATA]`
(env TRIAL_DASHBOARD_DATA names the data). One dataset per process, cached; one store per session.
"""

from __future__ import annotations

import asyncio
import logging
import re
import os
from urllib.parse import parse_qsl, urlencode

import panel as pn
from bokeh.models import CustomJS

from dashboard import code
from dashboard.auth.audit import SessionAudit
from dashboard.auth.roles import Role
from dashboard.loaders.cuts import DataCheck, DataWatcher, TrialSeries, is_cut_series
from dashboard.model.dataset import TrialDataset, load_bundled
from dashboard.model.pooling import pooled
from dashboard.links import apply_query, filters_to_query
from dashboard.report.download import MeetingPackView, PrintHeaderView, print_stylesheet
from dashboard.store import TrialStore
from dashboard.views.address import AddressBar
from dashboard.views.base import TabView, left_out_note, left_out_text
from dashboard.views.audit import AuditView
from dashboard.views.downloads import DataDownloadView
from dashboard.views.escape import escape_html, escape_markdown
from dashboard.views.theme import DashboardDesign
from dashboard.views.filters import FilterPanelView
from dashboard.views.overview import OverviewView
from dashboard.views.enrollment import EnrollmentView
from dashboard.views.balance import BalanceView
from dashboard.views.response import ResponseView
from dashboard.views.safety import SafetyView
from dashboard.views.data_quality import DataQualityView
from dashboard.views.changes import ChangesView
from dashboard.views.site_risk import SiteRiskView

DATA_ENV = "TRIAL_DASHBOARD_DATA"
DATA_CHECK_MS = 5000  # how often a served page checks the data folder for new cuts and changed files
log = logging.getLogger(__name__)
ACCENT = "#1f4e79"
EXTENSIONS = ("tabulator", "codeeditor")  # codeeditor: the Show code card of every tab

# Tab views in display order; a view appears only when its data is present.
VIEWS: tuple[type, ...] = (OverviewView, EnrollmentView, BalanceView, ResponseView, SafetyView, SiteRiskView,
                           DataQualityView)
# Tab views shown only when the trial is loaded as a series of data cuts (placed before Data quality).
SERIES_VIEWS: tuple[type, ...] = (ChangesView,)

HEADER_CSS = """
:host { width: 100%; }
.cut { color: white; font-size: 0.95rem; white-space: nowrap; text-align: right; }
.cut b { font-weight: 600; }
.role { color: white; font-size: 0.95rem; white-space: nowrap; border: 1px solid rgba(255,255,255,0.6);
        border-radius: 4px; padding: 2px 8px; }
"""
# A select in the header: its label on the header's colour, the select itself in the theme's own colours.
HEADER_SELECT_CSS = "label, .bk-description { color: white; } select.bk-input { color: var(--panel-on-background-color) !important; }"
PLACEHOLDER_CSS = """
:host { pointer-events: none; }
.building { display: flex; align-items: center; gap: 10px; opacity: 0.8; }
.spin { width: 18px; height: 18px; border-radius: 50%; border: 3px solid rgba(128, 128, 128, 0.3);
        border-top-color: currentColor; animation: spin 0.9s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
"""
DISCONNECTED = ("Connection to the server lost: the page no longer updates and its controls are switched off. "
                "Reload the page when the server is back.")
BANNER_CSS = """
:host { width: 100%; }
.banner { font-size: 0.85rem; line-height: 1.35; opacity: 0.85; }
.banner b { font-weight: 600; }
"""


@pn.cache
def shared_dataset(path: str | None = None) -> TrialDataset:
    """The process-wide dataset, loaded once and shared read-only by every session."""
    if path is None:
        return load_bundled()
    from dashboard.loaders import load_dataset

    return load_dataset(path)


@pn.cache
def shared_pooled_dataset(path: str | None = None) -> TrialDataset:
    """The process-wide dataset with every arm pooled (the open report's data), derived once."""
    return pooled(shared_dataset(path))


@pn.cache
def shared_series(path: str) -> TrialSeries:
    """The process-wide series of data cuts, loaded once and shared read-only by every session."""
    from dashboard.loaders.cuts import load_series

    return load_series(path)


@pn.cache
def shared_watcher(path: str | None) -> DataWatcher:
    """The process-wide watcher of the served data folder (new cuts, changed files)."""
    if path is not None and is_cut_series(path):
        return DataWatcher(list(shared_series(path).cuts), path)
    return DataWatcher([shared_dataset(path)])


def _reload_if_changed(path: str | None) -> DataCheck:
    """Before a served session opens: when the data folder changed since it was loaded and loads again,
    drop the cached data so this session reads it anew; otherwise sessions keep the data as loaded and
    the returned check says what changed (shown on every page)."""
    check = shared_watcher(path).check()
    if not (check.new_cuts or check.changed_files):
        return check
    try:
        if path is not None and is_cut_series(path):
            from dashboard.loaders.cuts import load_series

            load_series(path)
        elif path is not None:
            from dashboard.loaders import load_dataset

            load_dataset(path)
        else:
            load_bundled()
    except Exception as exc:  # the changed data cannot be served: keep the data as loaded and say why
        log.warning("changed data under %s cannot be loaded: %s", path, exc)
        return DataCheck(check.new_cuts, (*check.broken_cuts, f"the changed data cannot be loaded: {exc}"),
                         check.changed_files)
    for cached in (shared_series, shared_dataset, shared_pooled_dataset, shared_watcher):
        cached.clear()
    return shared_watcher(path).check()


def _data_notice(path: str | None, opened: DataCheck) -> pn.pane.Alert:
    """What changed in the data folder since this page opened, checked every DATA_CHECK_MS: a new cut is
    offered (reload to open it); a changed, missing or unloadable file is reported as such."""
    alert = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width", margin=(0, 10))

    def show(check: DataCheck) -> None:
        lines = [f"- Data cut **{escape_markdown(c)}** is available: reload the page to open it." for c in check.new_cuts]
        lines += [f"- A new data cut cannot be loaded: {escape_markdown(c)}" for c in check.broken_cuts]
        lines += [f"- **Numbers on this page are from the data as loaded**: {escape_markdown(c)}."
                  for c in check.changed_files]
        alert.object = "\n".join(lines)
        alert.alert_type = "danger" if check.changed_files or check.broken_cuts else "info"
        alert.visible = bool(lines)

    show(opened)
    watcher = shared_watcher(path)
    pn.state.add_periodic_callback(lambda: show(watcher.check()), period=DATA_CHECK_MS)
    return alert


def open_cut(data) -> tuple[TrialDataset, TrialSeries | None]:
    """The dataset a session shows and the series it belongs to: a series shows the cut the link
    names (`?cut=YYYY-MM-DD`), else its latest cut."""
    if isinstance(data, TrialDataset):
        return data, None
    series = data if isinstance(data, TrialSeries) else (
        shared_series(str(data)) if data is not None and is_cut_series(data) else None)
    if series is None:
        return shared_dataset(data), None
    asked = (pn.state.session_args.get("cut") or [b""])[0].decode() if pn.state.session_args else ""
    return (series.at(asked) if asked in series.dates else series.latest), series


def available_views(dataset: TrialDataset, role: Role | None = None) -> tuple[list[type], dict[str, str]]:
    """The tab views this dataset can show (and the role may see), and why each other one the role may
    see is left out (title -> reason). Views the role may not see are left out silently."""
    shown, hidden = [], {}
    for view in VIEWS:
        if role is not None and not role.allows_tab(view.title):
            continue
        reason = view.unavailable_reason(dataset)
        if reason is None:
            shown.append(view)
        else:
            hidden[view.title] = reason
    return shown, hidden


def build_app(data: TrialDataset | TrialSeries | str | None = None, store: TrialStore | None = None,
              role: Role | None = None, audit: SessionAudit | None = None):
    """The dashboard for one session (served or inline in a notebook): template, filters and tabs.

    `data` is a dataset, a series of data cuts, or a path (a series folder shows its latest cut, or the
    cut the link names). With a `role`, only what the role may see is built (tabs, arm filter, listings,
    profiles, data downloads; the open role's data are pooled) and a link with filters the role may not
    use is refused. With an `audit`, tabs opened, filters applied and exports are written to the audit trail.
    """
    pn.extension(*EXTENSIONS, sizing_mode="stretch_width", disconnect_notification=DISCONNECTED)
    served = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
    watched = served and store is None and (data is None or isinstance(data, str))
    opened = _reload_if_changed(data) if watched else None
    dataset, series = open_cut(data) if store is None else (store.dataset, store.series)
    if role is not None and role.pooled and store is None:  # the open report: pooled figures of one cut
        pooled_path = data is None or (isinstance(data, str) and series is None)
        dataset, series = (shared_pooled_dataset(data) if pooled_path else pooled(dataset)), None
    store = store or TrialStore(dataset, series=series)
    forbidden = set(role.forbidden_filters) if role is not None else set()
    for name in forbidden:
        store.param[name].objects = []
    store.filters = tuple(d for d in store.filters if d.name not in forbidden)  # no widget, no effect
    refused = _refused_filters(role)
    if refused:
        if audit is not None:
            audit.record("link-refused", filters=refused)
        return _refusal_page(dataset, store, role, refused)
    link_problems, address = _sync_url(store)
    _drop_writes_to_closed_pages()
    shown, hidden = available_views(dataset, role)
    if series is not None and len(series.cuts) > 1:
        shown[-1:-1] = [v for v in SERIES_VIEWS if role is None or role.allows_tab(v.title)]
    extra: dict[type, dict] = {}
    if audit is not None and role is not None and role.allows_tab(AuditView.title):
        shown.append(AuditView)
        extra[AuditView] = {"log": audit.log}
    tabs = _tabs(shown, store, patient_level=role is None or role.patient_level,
                 show_code=role is None or role.data_downloads, audit=audit, extra=extra)
    sidebar = [FilterPanelView(store=store)]
    pack = pn.panel(MeetingPackView(store=store, patient_level=role is None or role.patient_level))
    _audit_exports(pack, audit)  # the open role's pack is pooled and holds no listing (issue 17)
    sidebar.append(pack)
    if role is not None and role.data_downloads:
        downloads = pn.panel(DataDownloadView(store=store))
        _audit_exports(downloads, audit)
        sidebar.append(downloads)
    if link_problems:
        sidebar.insert(0, pn.pane.Alert("\n".join(f"- {escape_markdown(p)}" for p in link_problems), alert_type="warning"))
    if hidden:
        notes = "".join(f"<li><b>{escape_html(t)}</b>: {escape_html(r)}</li>" for t, r in hidden.items())
        sidebar.append(pn.pane.HTML(f"<p>Not shown for these data:</p><ul>{notes}</ul>",
                                    styles={"font-size": "0.8rem", "opacity": "0.8"}))
    if audit is not None:
        _audit_session(store, audit)
    notice = [_data_notice(data, opened)] if watched else []
    return _page(dataset, store, role, sidebar=sidebar,
                 main=[PrintHeaderView(store=store), *notice, _banner(dataset, store), tabs],
                 extra_header=[address] if address else [])


def _page(dataset: TrialDataset, store: TrialStore, role: Role | None, *, sidebar: list, main: list,
          extra_header: list = ()) -> pn.template.BootstrapTemplate:
    """The page template: trial title, data cut, role and sign-out in the header."""
    info = dataset.info
    title = f"{info.registry_id} · {info.short_name}"
    _keep_browser_title(title)
    _disable_controls_when_disconnected()
    return pn.template.BootstrapTemplate(
        title=escape_html(title),  # Panel writes the template title into the page header as HTML
        header=[pn.Row(
            pn.pane.HTML(f'<div class="cut">Data cut <b>{store.cutoff.isoformat()}</b></div>',
                         stylesheets=[HEADER_CSS], sizing_mode="stretch_width", margin=(0, 10), align="center"),
            *_cut_selectors(store), *_role_and_sign_out(role), _theme_button(), *extra_header, sizing_mode="stretch_width",
        )],
        sidebar=sidebar,
        main=main,
        header_background=ACCENT,
        design=DashboardDesign,
        sidebar_width=310,
        raw_css=[print_stylesheet()],
    )


def _role_and_sign_out(role: Role | None) -> list:
    """The signed-in user's role and a sign-out button (nothing without sign-in)."""
    if role is None:
        return []
    user = pn.state.user or ""
    badge = pn.pane.HTML(f'<span class="role" title="{escape_html(role.description)}">{escape_html(user)} · '
                         f'role: <b>{escape_html(role.name)}</b></span>', stylesheets=[HEADER_CSS],
                         margin=(0, 10), align="center", css_classes=["signed-in-role"])
    sign_out = pn.widgets.Button(name="Sign out", button_type="light", button_style="outline", width=90,
                                 margin=(8, 10), align="center")
    sign_out.js_on_click(code="window.location.href = 'logout';")  # relative: works under a --prefix
    return [badge, sign_out]


def _refused_filters(role: Role | None) -> list[str]:
    """The filters in the session's link that the role may not use."""
    args = pn.state.session_args if pn.state.curdoc is not None and pn.state.curdoc.session_context else None
    if role is None or not args:
        return []
    return [name for name in role.forbidden_filters if name in args]


def _refusal_page(dataset: TrialDataset, store: TrialStore, role: Role, refused: list[str]):
    """A page saying the link asks for filters the role may not use (nothing else is built)."""
    names = ", ".join(refused)
    text = (f"**This link was refused.** It sets the filter(s) {escape_markdown(names)}, which the "
            f"{escape_markdown(role.name)} role may not use. Open the dashboard without them: "
            "[start page](./).")
    return _page(dataset, store, role, sidebar=[], main=[pn.pane.Alert(text, alert_type="danger")])


def _audit_session(store: TrialStore, audit: SessionAudit) -> None:
    """Write the session's start, tabs opened and filters applied to the audit trail."""
    audit.record("session-start", tab=store.tab, filters=filters_to_query(store))
    store.param.watch(lambda event: audit.record("tab-opened", tab=event.new), "tab")
    store.param.watch(lambda *events: audit.record("filters-applied", filters=filters_to_query(store)),
                      list(TrialStore.FILTERS))
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:  # outside a server there is no session to end
        doc.on_session_destroyed(lambda context: audit.record("session-end"))


def _audit_exports(component: pn.viewable.Viewable, audit: SessionAudit | None) -> None:
    """Write every download made from `component` to the audit trail (its file name)."""
    if audit is None:
        return
    for download in component.select(pn.widgets.FileDownload):
        download.param.watch(lambda event, d=download: audit.record("export", file=d.filename), "_clicks")


def _tabs(views: list[type], store: TrialStore, *, patient_level: bool = True, show_code: bool = True,
          audit: SessionAudit | None = None, extra: dict[type, dict] | None = None) -> pn.Tabs:
    """One tab per view, each built the first time it is opened: in a served page the tab first shows its
    "Building…" placeholder and is built on the server's next tick (in a notebook, at once).

    Only the shown tab is in the page (dynamic=True: Panel keeps a hidden tab's models and puts them back
    when it is shown), so a filter change lays out one tab in the browser, not every tab opened so far.
    Hidden views are marked inactive, skip every update (a binding that ignored the gate would update
    models outside the page) and catch up when shown again.
    """
    tabs = pn.Tabs(*[(view.title, _placeholder(view)) for view in views], dynamic=True,
                   sizing_mode="stretch_width", name="tabs")
    titles = [view.title for view in views]
    store.param.tab.objects = titles
    built: dict[int, TabView | None] = {}
    building: set[int] = set()

    def build(index: int) -> None:
        built[index], component = _build_view(views[index], store, show_code=show_code, patient_level=patient_level,
                                              **(extra or {}).get(views[index], {}))
        building.discard(index)
        if built[index] is not None:
            built[index].active = tabs.active == index  # the user may have moved on while it was built
        _audit_exports(component, audit)
        tabs[index] = (views[index].title, component)

    def open_tab(index: int, at_once: bool = False) -> None:
        for i, instance in built.items():
            if instance is not None:
                instance.active = i == index
        if index in built or index in building or not 0 <= index < len(views):
            return
        building.add(index)
        pn.state.execute(lambda: build(index), schedule=not at_once)

    open_tab(tabs.active, at_once=True)
    tabs.param.watch(lambda event: open_tab(event.new), "active")
    # store.tab <-> tabs.active: a view (e.g. the Overview's summary links) opens a tab through the store.
    def show(event) -> None:
        if event.new in titles:
            tabs.active = titles.index(event.new)

    store.tab = titles[tabs.active] if titles else None
    tabs.param.watch(lambda event: setattr(store, "tab", titles[event.new]), "active")
    store.param.watch(show, "tab")
    return tabs


def _placeholder(view: type) -> pn.pane.HTML:
    """What a tab shows until it is first opened (and while it builds)."""
    return pn.pane.HTML(f'<div class="building"><span class="spin"></span>Building the {escape_html(view.title)} tab…</div>',
                        stylesheets=[PLACEHOLDER_CSS], name=view.title, margin=(10, 10))


def built_tab_class(title: str) -> str:
    """The CSS class of tab `title`'s content once built ("tab-arm-balance"; browser tests wait for it)."""
    return "tab-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _build_view(view: type, store: TrialStore, show_code: bool = True,
                **params) -> tuple[TabView | None, pn.viewable.Viewable]:
    """The view (given `params` besides the store) and its component, with its Show code card when
    `show_code`; one that fails to build shows why instead of taking the dashboard down."""
    try:
        instance = view(store=store, **params)
        note = [left_out_note(store.dataset, *view.reads_tables)] if view.reads_tables and left_out_text(
            store.dataset, *view.reads_tables) else []
        card = [instance.code_card()] if show_code and code.parts_of(instance) else []
        return instance, pn.Column(*note, instance, *card, sizing_mode="stretch_width", name=view.title,
                                   css_classes=[built_tab_class(view.title)])
    except Exception as exc:  # a broken view must not take the whole dashboard down
        log.exception("view %s failed to build", view.__name__)
        return None, pn.pane.Alert(f"**{escape_markdown(view.title)} could not be shown.** {escape_markdown(exc)}",
                                   alert_type="danger", css_classes=[built_tab_class(view.title)])


def _keep_browser_title(title: str) -> None:
    """In a served session, set the browser tab's text to `title` once the page is ready (the template
    was given the escaped title, which the tab would show with its character references). The title
    reaches the page as data of the callback, never as code."""
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        doc.js_on_event("document_ready", CustomJS(args={"title": title}, code="document.title = title"))


# Disables every button, input and select of the page (shadow DOMs included) and says why on hover.
DISABLE_CONTROLS_JS = """
const walk = (root) => {
  for (const el of root.querySelectorAll('button, input, select, textarea')) {
    el.disabled = true;
    el.title = 'Connection to the server lost: reload the page when the server is back.';
  }
  for (const el of root.querySelectorAll('*')) { if (el.shadowRoot) walk(el.shadowRoot); }
};
walk(document);
"""


def _disable_controls_when_disconnected() -> None:
    """In a served session, disable the page's controls when the connection to the server is lost (a
    dead page's buttons would otherwise look like they work); the disconnect notification says why."""
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        doc.js_on_event("connection_lost", CustomJS(code=DISABLE_CONTROLS_JS))


def _cut_selectors(store: TrialStore) -> list[pn.widgets.Select]:
    """With a series of data cuts: the "as of" cut every tab shows and the earlier cut to compare with.

    Choosing another "as of" cut reopens the page on it (`?cut=`, filters kept in the address), so every
    tab is built from that cut; outside a server (a notebook) pass the cut to `build_app` instead.
    """
    if store.series is None:
        return []
    on_header = [HEADER_SELECT_CSS]
    compare = pn.widgets.Select.from_param(store.param.compare, label="Compare with", width=130, margin=(0, 5),
                                           align="center", stylesheets=on_header,
                                           disabled=not store.param.compare.objects)
    served = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
    if not served:
        return [compare]
    as_of = pn.widgets.Select.from_param(store.param.cut, label="As of", width=130, margin=(0, 5), align="center",
                                         stylesheets=on_header)
    as_of.jscallback(value="""
        const query = new URLSearchParams(window.location.search);
        query.set('cut', cb_obj.value);
        window.location.search = query.toString();
    """)
    return [as_of, compare]


def _theme_button() -> pn.widgets.Button:
    """Switch light/dark: reloads the page with ?theme=dark|default, keeping the filters in the URL."""
    dark = (pn.state.session_args.get("theme") or [b""])[0] == b"dark" if pn.state.session_args else False
    button = pn.widgets.Button(name="Light theme" if dark else "Dark theme", button_type="light",
                               button_style="outline", width=110, margin=(8, 10), align="center")
    button.js_on_click(code="""
        const query = new URLSearchParams(window.location.search);
        const dark = document.documentElement.getAttribute('data-bs-theme') === 'dark';
        query.set('theme', dark ? 'default' : 'dark');
        window.location.search = query.toString();
    """)
    return button


def _banner(dataset: TrialDataset, store: TrialStore) -> pn.pane.HTML:
    """Trial title, registry id, data cut and provenance: above the tabs, so on every tab."""
    info = dataset.info
    text = (
        f'<div class="banner"><b>{escape_html(info.title)}</b><br>Registry {escape_html(info.registry_id)}'
        f" · data cut {store.cutoff.isoformat()} · {escape_html(dataset.provenance_text())}</div>"
    )
    return pn.pane.HTML(text, stylesheets=[BANNER_CSS], sizing_mode="stretch_width", margin=(0, 10))


def _sync_url(store: TrialStore) -> tuple[list[str], AddressBar | None]:
    """In a served session, open the link's filters and mirror the filters in the address (replacing
    the history entry, so that Back and a copied address always match the page).

    Returns the link values that were ignored and the component writing the address (None outside a
    server, e.g. in notebooks).
    """
    doc = pn.state.curdoc
    location = pn.state.location
    if location is None or doc is None or doc.session_context is None:
        return [], None
    opened = location.search  # the address the page was opened with (other fields, e.g. theme, are kept)
    problems = apply_query(store, dict(parse_qsl(opened.lstrip("?"))))
    address = AddressBar(query=opened, width=0, height=0, margin=0)

    def write_query(*events) -> None:
        others = [(k, v) for k, v in parse_qsl(opened.lstrip("?")) if k not in TrialStore.FILTERS]
        query = urlencode([*filters_to_query(store).items(), *others], safe=",")
        address.query = f"?{query}" if query else ""

    write_query()  # a link with values the data do not know shows only the filters applied
    store.param.watch(write_query, list(TrialStore.FILTERS))
    return problems, address


def _drop_writes_to_closed_pages() -> None:
    """In a served session, log at debug level (not as an error with a traceback) each update the
    server could not send because the browser had closed the page.

    Panel sends updates as tornado write tasks and, when a session ends, cancels the pending ones
    without retrieving the WebSocketClosedError of those that already failed; asyncio then reports
    each as "Task exception was never retrieved". Every other unretrieved exception is reported as
    before. Installed once per server event loop.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    previous = loop.get_exception_handler()
    if getattr(previous, "drops_closed_page_writes", False):
        return
    from tornado.websocket import WebSocketClosedError

    def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        if isinstance(context.get("exception"), WebSocketClosedError):
            log.debug("update not sent: the page was closed (%s)", context.get("message"))
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.drops_closed_page_writes = True
    loop.set_exception_handler(handler)


if pn.state.served:
    build_app(os.environ.get(DATA_ENV)).servable()
