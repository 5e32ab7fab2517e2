"""Changes tab: what is new, changed or removed between the compared data cut and the cut shown."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from ..transforms.changes import (CATEGORIES, KINDS, change_counts, change_listing, changes_of_patients,
                                 empty_listing)
from .base import TabView
from .escape import csv_download, escape_html, safe_filename, table_titles
from .swimmer import patient_profile

TABLE_CSS = """
.tabulator, .tabulator .tabulator-row .tabulator-cell, .tabulator .tabulator-col-title { font-size: 13px !important; }
.tabulator .tabulator-row .tabulator-cell { padding: 3px 6px !important; }
"""
NOTE_CSS = ".note { opacity: 0.85; font-size: 0.9rem; margin: 2px 0; }"
ALL = "All categories"
LISTING_LABELS = {"CATEGORY": "Category", "CHANGE": "Change", "USUBJID": "Patient", "ARM": "Arm", "SITEID": "Site",
                  "DATE": "Record date", "RECORD": "Record", "BEFORE": "Before", "AFTER": "Now"}


class ChangesView(TabView):
    """Counts and listings of the records new, changed or removed since the compared cut, on the filters."""

    title = "Changes"
    category = param.Selector(default=ALL, objects=[ALL, *CATEGORIES], doc="Category the listing shows.")

    def listing(self, subjects: pd.DataFrame, compare: str | None) -> pd.DataFrame:
        """The change listing between the compared cut and this one, for the filtered patients (and
        patients no longer randomized in this cut, whom no filter can select)."""
        store = self.store
        if compare is None:
            return empty_listing()
        dataset = store.dataset
        listing = store.memo_unfiltered(
            ("change listing", compare, store.cutoff),
            lambda: change_listing(store.series.at(compare).tables(), dataset.tables(), dataset.info.primary_visit_day))
        return changes_of_patients(listing, subjects, dataset.randomized)

    def __panel__(self):
        listing = pn.rx(self.bind_active(self.listing, self.store.filtered_subjects, self.store.param.compare))
        arm_labels = self.store.dataset.info.arm_short_labels
        counts = listing.rx.pipe(lambda df: change_counts(df).rename(
            columns={"CATEGORY": "Category", **{k: k.capitalize() for k in KINDS}}))
        arm_order = [arm_labels.get(a, a) for a in self.store.dataset.arms]
        by_arm = listing.rx.pipe(lambda df: change_counts(df.assign(ARM=df["ARM"].map(lambda a: arm_labels.get(a, a))),
                                                          "ARM", arm_order).rename(columns={"CATEGORY": "Category"}))
        by_site = listing.rx.pipe(lambda df: change_counts(df, "SITEID").rename(columns={"CATEGORY": "Category"}))
        shown = pn.rx(pn.bind(self._shown, listing, self.param.category))
        table = pn.widgets.Tabulator(
            shown, titles=shown.rx.pipe(lambda f: table_titles(f.columns)), disabled=True, show_index=False,
            pagination="local", page_size=15, layout="fit_data_stretch", sizing_mode="stretch_width",
            stylesheets=[TABLE_CSS], selectable=1, css_classes=["changes-listing"],
            formatters={"Record date": {"type": "datetime", "outputFormat": "yyyy-MM-dd"}})
        download = pn.widgets.FileDownload(callback=pn.bind(self._csv, shown), filename=self._filename(),
                                           label="Changes (CSV)", color="primary", variant="outline",
                                           width=180)

        profile = pn.bind(self._profile, table.param.selection, shown)

        def small(frame):
            return pn.widgets.Tabulator(frame, titles=frame.rx.pipe(lambda f: table_titles(f.columns)), disabled=True,
                                        show_index=False, layout="fit_data_stretch", selectable=False,
                                        header_align=frame.rx.pipe(lambda f: {c: "right" for c in f.columns[1:]}),
                                        sizing_mode="stretch_width", stylesheets=[TABLE_CSS])

        return pn.Column(
            pn.pane.HTML(self.bind_active(self._heading, self.store.param.compare), stylesheets=[NOTE_CSS],
                         sizing_mode="stretch_width"),
            pn.Row(pn.Column("**By category**", small(counts), sizing_mode="stretch_width"),
                   pn.Column("**By arm** (closed view)", small(by_arm), sizing_mode="stretch_width"),
                   sizing_mode="stretch_width"),
            pn.Column("**By site**", small(by_site), sizing_mode="stretch_width"),
            pn.Row(pn.widgets.Select.from_param(self.param.category, label="Listing", width=280), download,
                   align="end"),
            pn.pane.HTML("<p class='note'>Click a row for the patient's profile.</p>", stylesheets=[NOTE_CSS]),
            table,
            pn.panel(profile),
            sizing_mode="stretch_width",
        )

    def _heading(self, compare: str | None) -> str:
        cut = self.store.cutoff.isoformat()
        if compare is None:
            return f"<p class='note'>Data cut {cut} is the first cut of the series: there is no earlier cut to compare with.</p>"
        return (f"<p class='note'>Changes from data cut <b>{escape_html(compare)}</b> to data cut <b>{cut}</b>, "
                "for the patients the filters select. <i>New</i>: in this cut, not in the earlier one; <i>changed</i>: "
                "in both with a different value; <i>removed</i>: in the earlier cut only. Adverse events are matched by "
                "patient, preferred term and start date; response assessments by patient, parameter and date.</p>")

    def _profile(self, selection: list[int], shown: pd.DataFrame):
        """The profile of the patient of the clicked listing row (the Response tab's swimmer profile)."""
        usubjid = str(shown["Patient"].iloc[selection[0]]) if selection and selection[0] < len(shown) else ""
        return patient_profile(self.store.dataset, usubjid)

    @staticmethod
    def _shown(listing: pd.DataFrame, category: str) -> pd.DataFrame:
        rows = listing if category == ALL else listing.loc[listing["CATEGORY"] == category]
        return rows.rename(columns=LISTING_LABELS).reset_index(drop=True)

    def _filename(self) -> str:
        return safe_filename(f"{self.store.dataset.info.registry_id}_changes_{self.store.cutoff.isoformat()}") + ".csv"

    def _csv(self, shown: pd.DataFrame):
        store = self.store
        frame = shown.assign(**{"Record date": shown["Record date"].dt.strftime("%Y-%m-%d")})
        return csv_download(frame, [f"{store.dataset.info.registry_id} changes",
                                    f"data cut {store.cutoff.isoformat()} compared with data cut {store.compare}",
                                    f"filters: {store.summary()}"])
