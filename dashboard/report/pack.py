"""The meeting pack: cover, contents and sections as one self-contained HTML document, or its PDF.

PDF route: WeasyPrint lays the same HTML out with CSS paged media (running header and footer, page
numbers, contents with page numbers, table headers repeated across pages), and the figures are
inline SVG from matplotlib, so the PDF is vector and needs no browser. The open report (DMC
convention) is built from `pooled(dataset)`, so no section can show a figure by arm.
"""

from __future__ import annotations

import datetime as dt
import platform
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import parse_qsl

from ..code import software_versions
from ..links import apply_query, filters_to_query
from ..model.dataset import TrialDataset
from ..model.pooling import pooled
from ..store import POPULATIONS, TrialStore
from ..views.data_quality import provenance_frame
from ..views.escape import escape_html, safe_filename
from .sections import SECTION_TITLES, SECTIONS, PackContext, table_html

_e = escape_html
SECTION_NAMES: tuple[str, ...] = tuple(SECTIONS)
FORMATS = ("pdf", "html")
Progress = Callable[[float, str], None]


def is_open(dataset: TrialDataset) -> bool:
    """Whether the dataset is already the pooled trial of an open report."""
    return bool(dataset.provenance.get("pooled"))


def pack_store(dataset: TrialDataset, *, query: str = "", closed: bool = True) -> tuple[TrialStore, list[str]]:
    """A store over the pack's dataset (pooled unless `closed`; always pooled when the dataset already
    is) with the URL `query`'s filters applied; also the filter values that were ignored."""
    data = dataset if closed or is_open(dataset) else pooled(dataset)
    store = TrialStore(data)
    problems = apply_query(store, dict(parse_qsl(query.lstrip("?")))) if query else []
    return store, problems


def pack_filename(dataset: TrialDataset, *, closed: bool, fmt: str) -> str:
    """`<trial>_meeting-pack_<open|closed>_cut<YYYY-MM-DD>.<ext>`."""
    kind = "closed" if closed and not is_open(dataset) else "open"
    return (f"{safe_filename(dataset.info.registry_id)}_meeting-pack_{kind}_"
            f"cut{dataset.cutoff.date().isoformat()}.{fmt}")


def pack_html(dataset: TrialDataset, *, query: str = "", sections: Iterable[str] = SECTION_NAMES,
              closed: bool = True, progress: Progress | None = None, generated_at: dt.datetime | None = None,
              listings: bool = True) -> str:
    """The whole pack as one HTML document (styles and figures inline). `query`: the dashboard's URL
    filters; `sections`: names from SECTION_NAMES, in that order; `progress(fraction, what)` is called
    before each section; without `listings`, no patient-level listing. Raises ValueError naming an
    unknown section."""
    chosen = list(sections)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTION_NAMES)}")
    chosen = [s for s in SECTION_NAMES if s in chosen]
    store, problems = pack_store(dataset, query=query, closed=closed)
    ctx = PackContext(store=store, closed=not is_open(store.dataset), listings=listings)
    generated = (generated_at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    bodies = []
    for i, name in enumerate(chosen):
        if progress:
            progress(i / (len(chosen) + 1), SECTION_TITLES[name])
        bodies.append(SECTIONS[name](ctx))
    if progress:
        progress(len(chosen) / (len(chosen) + 1), "Laying out pages")
    kind = "CLOSED" if ctx.closed else "OPEN"
    info = store.dataset.info
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(info.registry_id)} meeting pack ({kind.lower()}), data cut {store.cutoff.isoformat()}</title>"
            f"<style>{_stylesheet()}</style></head><body>"
            f'<div class="screen-banner">{_e(info.registry_id)} · data cut {store.cutoff.isoformat()} · '
            f"{kind} report · Confidential</div>"
            + _cover(ctx, problems, generated) + _contents(chosen) + "".join(bodies) + "</body></html>")


def pack_pdf(html: str) -> bytes:
    """The pack's HTML laid out as a PDF by WeasyPrint."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def build_pack(dataset: TrialDataset, out, *, query: str = "", sections: Iterable[str] = SECTION_NAMES,
               closed: bool = True, progress: Progress | None = None) -> Path:
    """Write the pack to `out` (.pdf or .html, by its suffix); returns the path."""
    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"the pack is written as .pdf or .html, not {out.name!r}")
    html = pack_html(dataset, query=query, sections=sections, closed=closed, progress=progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "pdf":
        out.write_bytes(pack_pdf(html))
    else:
        out.write_text(html, encoding="utf-8")
    if progress:
        progress(1.0, "Done")
    return out


def _stylesheet() -> str:
    return resources.files(__package__).joinpath("pack.css").read_text(encoding="utf-8")


def _cover(ctx: PackContext, problems: list[str], generated: dt.datetime) -> str:
    store, dataset = ctx.store, ctx.store.dataset
    info = dataset.info
    kind = "CLOSED" if ctx.closed else "OPEN"
    what = ("Closed report: results by arm, for the DMC's closed session only." if ctx.closed else
            "Open report: every efficacy and safety figure is pooled over the arms (enrollment and data quality "
            "are shown by site).")
    query = filters_to_query(store)
    filters = "; ".join(f"{k} = {v}" for k, v in query.items()) or "none (all patients)"
    rows = [
        ("Registry", info.registry_id),
        ("Data cut", f"{store.cutoff.isoformat()} (source: {dataset.cutoff_source})"),
        ("Population", f"{store.population} ({POPULATIONS[store.population]} = Y): {store.summary()}"),
        ("Filters", filters + (f". Ignored: {'; '.join(problems)}" if problems else "")),
        ("Generated", generated.strftime("%Y-%m-%d %H:%M UTC")),
        ("Software", f"{software_versions()} (Python {platform.python_version()})"),
        ("Provenance", dataset.provenance_text()),
    ]
    table = "".join(f'<tr><th class="text">{_e(k)}</th><td class="text">{_e(v)}</td></tr>' for k, v in rows)
    files = provenance_frame(dataset)
    checksums = table_html(files, "Files read, with their SHA-256 checksums", text_columns=len(files.columns),
                           css_class="files") if len(files) else ""
    return (f'<section class="cover"><p class="run-trial">{_e(info.registry_id)} · {_e(info.short_name)}</p>'
            f'<p class="kind {kind.lower()}"><span class="run-kind">{kind}</span> REPORT · CONFIDENTIAL</p>'
            f"<h1 class=\"title\">{_e(info.title)}</h1>"
            f'<p class="subtitle">Committee meeting pack · data cut <span class="run-cut">{store.cutoff.isoformat()}'
            f"</span></p><p class=\"what\">{_e(what)}</p>"
            f'<table class="cover-table">{table}</table>{checksums}'
            f'<p class="confidential">Confidential: for the members of the committee only. Do not copy or forward.'
            f"</p></section>")


def _contents(chosen: list[str]) -> str:
    items = "".join(f'<li><a href="#{name}">{_e(SECTION_TITLES[name])}</a></li>' for name in chosen)
    return f'<nav class="toc"><h1 class="toc-title">Contents</h1><ol>{items}</ol></nav>'
