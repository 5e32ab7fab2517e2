"""What changed between two data cuts: new, changed and removed records by category, arm and site.

Every function takes the tables of the earlier cut and of the later cut (`{"adsl": ..., "adae": ...}`,
a missing table as None) and returns a new DataFrame; inputs are never modified.

Records are matched across cuts by what identifies them, not by sequence numbers (which a late-entered
record renumbers): a subject by USUBJID; an adverse event by subject, preferred term, start date and
occurrence; a response assessment by subject, parameter and date (the primary endpoint by visit).
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

NEW, CHANGED, REMOVED = "new", "changed", "removed"
KINDS = (NEW, CHANGED, REMOVED)
RANDOMIZED = "Patients randomized"
DEATHS = "Deaths"
SERIOUS_AES = "SAEs and grade >= 3 AEs"
WITHDRAWALS = "Withdrawals"
PRIMARY = "Primary endpoint assessments"
RESPONSES = "Response changes"
CORRECTED = "Corrected records"
CATEGORIES = (RANDOMIZED, DEATHS, SERIOUS_AES, WITHDRAWALS, PRIMARY, RESPONSES, CORRECTED)
LISTING_COLUMNS = ("CATEGORY", "CHANGE", "USUBJID", "ARM", "SITEID", "DATE", "RECORD", "BEFORE", "AFTER")
# ADSL values fixed at randomization: a change between cuts is a correction.
BASELINE_COLUMNS = ("ARM", "RANDDT", "SITEID", "SEX", "AGE", "AGVHDGR", "DIAG")
AE_KEY = ("USUBJID", "AEDECOD", "ASTDT", "OCCURRENCE")
FATAL_GRADE = 5

Tables = Mapping[str, "pd.DataFrame | None"]


def change_listing(before: Tables, after: Tables, primary_visit_day: float | None = None) -> pd.DataFrame:
    """One row per change between the cuts: CATEGORY, CHANGE (new/changed/removed), USUBJID, ARM,
    SITEID, DATE (of the record), RECORD (what it is), BEFORE and AFTER (the values compared).

    Needs ADSL (USUBJID, RANDFL, ARM, SITEID, DTHFL, DTHDT, EOSSTT, DCSREAS) in both cuts; ADAE
    (AEDECOD, ASTDT, AETOXGRN, AESER) and ADRS (PARAMCD, ADT, AVISITN, AVALC) when present.
    `primary_visit_day`: the AVISITN of the primary endpoint assessment (None: no such category).
    """
    old_sl, new_sl = before["adsl"], after["adsl"]
    _require(old_sl, "adsl", ("USUBJID", "RANDFL", "ARM", "SITEID", "DTHFL", "DTHDT", "EOSSTT", "DCSREAS"))
    _require(new_sl, "adsl", ("USUBJID", "RANDFL", "ARM", "SITEID", "DTHFL", "DTHDT", "EOSSTT", "DCSREAS"))
    parts = [
        _membership(RANDOMIZED, old_sl, new_sl, lambda sl: sl["RANDFL"] == "Y", "RANDDT", "Randomized"),
        _membership(DEATHS, old_sl, new_sl, lambda sl: sl["DTHFL"] == "Y", "DTHDT", "Death"),
        _death_dates(old_sl, new_sl),
        _membership(WITHDRAWALS, old_sl, new_sl, _withdrawn, "EOSDT", "Withdrawal"),
        _baseline_corrections(old_sl, new_sl),
    ]
    old_ae, new_ae = before.get("adae"), after.get("adae")
    if old_ae is not None and new_ae is not None:
        parts += _serious_aes(_ae_keyed(old_ae), _ae_keyed(new_ae))
    old_rs, new_rs = before.get("adrs"), after.get("adrs")
    if old_rs is not None and new_rs is not None:
        parts.append(_response_changes(old_rs, new_rs))
        if primary_visit_day is not None:
            parts.append(_primary_assessments(old_rs, new_rs, float(primary_visit_day)))
    listing = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else empty_listing()
    subjects = pd.concat([new_sl, old_sl], ignore_index=True).drop_duplicates("USUBJID").set_index("USUBJID")
    listing["ARM"] = listing["USUBJID"].map(subjects["ARM"])
    listing["SITEID"] = listing["USUBJID"].map(subjects["SITEID"])
    order = {c: i for i, c in enumerate(CATEGORIES)}
    listing = listing.sort_values(["CATEGORY", "CHANGE", "DATE", "USUBJID"],
                                  key=lambda c: c.map(order) if c.name == "CATEGORY" else c, kind="stable")
    return listing[list(LISTING_COLUMNS)].reset_index(drop=True)


def change_counts(listing: pd.DataFrame, by: str | None = None, order=()) -> pd.DataFrame:
    """Counts of a `change_listing`: one row per category (all categories, zeros included).

    by=None: columns new, changed, removed. by="ARM" or "SITEID": one column per value of `by`,
    counting every change (new + changed + removed); the values in `order` first, in that order (e.g. the
    trial's arm order), then any other in sorted order.
    """
    _require(listing, "change listing", ("CATEGORY", "CHANGE", *([by] if by else [])))
    if by is None:
        counts = pd.crosstab(listing["CATEGORY"], listing["CHANGE"])
        counts = counts.reindex(index=list(CATEGORIES), columns=list(KINDS), fill_value=0)
    else:
        counts = pd.crosstab(listing["CATEGORY"], listing[by].fillna("(none)"))
        first = [v for v in order if v in counts.columns]
        counts = counts.reindex(index=list(CATEGORIES), columns=first + [c for c in counts.columns if c not in first],
                                fill_value=0)
    counts.columns.name = None
    return counts.rename_axis("CATEGORY").reset_index().astype({c: int for c in counts.columns})


def changes_of_patients(listing: pd.DataFrame, subjects: pd.DataFrame, randomized: pd.DataFrame) -> pd.DataFrame:
    """The rows of a `change_listing` about the `subjects` (the filtered patients), and about patients no
    longer among the `randomized` of the later cut (no filter can select them, and their removal is news)."""
    _require(listing, "change listing", ("USUBJID",))
    keep = listing["USUBJID"].isin(set(subjects["USUBJID"])) | ~listing["USUBJID"].isin(set(randomized["USUBJID"]))
    return listing.loc[keep].reset_index(drop=True)


def headline_change(before: Tables, after: Tables, flag: str = "DTHFL") -> tuple[int, int]:
    """(count in the later cut, change since the earlier cut) of randomized subjects with `flag` == 'Y'."""
    def count(sl):
        return int(((sl["RANDFL"] == "Y") & (sl[flag] == "Y")).sum())

    now = count(after["adsl"])
    return now, now - count(before["adsl"])


def new_events(before: pd.DataFrame, after: pd.DataFrame) -> pd.Series:
    """For each row of the later cut's ADAE `after` (same index): whether its event (subject, preferred
    term, start date, occurrence) is not in the earlier cut's ADAE `before`."""
    keys = list(AE_KEY)
    old = _ae_keyed(before)[keys].astype({"USUBJID": str, "AEDECOD": str}).drop_duplicates()
    new = _ae_keyed(after)[keys].astype({"USUBJID": str, "AEDECOD": str})
    found = new.merge(old, on=keys, how="left", indicator=True)["_merge"].to_numpy()
    return pd.Series(found == "left_only", index=after.index, name="NEW")


def _require(df: pd.DataFrame | None, name: str, columns) -> None:
    if df is None:
        raise ValueError(f"{name} is needed in both cuts")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing}")


def empty_listing() -> pd.DataFrame:
    """A change listing without rows (LISTING_COLUMNS, DATE as dates)."""
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "DATE" else object) for c in LISTING_COLUMNS})


def _rows(category: str, change: str, usubjid, date, record, before, after) -> pd.DataFrame:
    """Listing rows: `usubjid` a Series, the other values Series of the same length or one value for all."""
    ids = pd.Series(usubjid, dtype=object).to_numpy()

    def column(value):
        return value.to_numpy() if isinstance(value, pd.Series) else [value] * len(ids)

    return pd.DataFrame({"CATEGORY": category, "CHANGE": change, "USUBJID": ids,
                         "DATE": pd.to_datetime(pd.Series(column(date), dtype="datetime64[ns]")).to_numpy(),
                         "RECORD": column(record), "BEFORE": column(before), "AFTER": column(after)},
                        index=range(len(ids)))


def _text(values: pd.Series) -> pd.Series:
    """Values as readers see them: dates as YYYY-MM-DD, missing as an empty string."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").fillna("")
    return values.astype(object).where(values.notna(), "").astype(str)


def _differs(old: pd.Series, new: pd.Series) -> pd.Series:
    """Whether two aligned columns hold different values (3 and 3.0 are equal, and so are two missing)."""
    def plain(values):
        return values.astype(object).where(values.notna(), None)

    return plain(old) != plain(new)


def _withdrawn(sl: pd.DataFrame) -> pd.Series:
    """Randomized subjects who left the study for a reason other than death."""
    return (sl["RANDFL"] == "Y") & (sl["EOSSTT"] == "DISCONTINUED") & (sl["DCSREAS"] != "Death") & (sl["DTHFL"] != "Y")


def _membership(category, old_sl, new_sl, member, date_col: str, what: str) -> pd.DataFrame:
    """Subjects who entered (new) or left (removed) a category between the cuts."""
    old_ids = set(old_sl.loc[member(old_sl).fillna(False).astype(bool), "USUBJID"])
    new_in = new_sl.loc[member(new_sl).fillna(False).astype(bool)]
    added = new_in.loc[~new_in["USUBJID"].isin(old_ids)]
    new_ids = set(new_in["USUBJID"])
    old_in = old_sl.loc[member(old_sl).fillna(False).astype(bool)]
    gone = old_in.loc[~old_in["USUBJID"].isin(new_ids)]
    detail = "DCSREAS" if category == WITHDRAWALS else ("DTHCAUS" if category == DEATHS else None)

    def record(sl):
        return what + (" (" + _text(sl[detail]) + ")" if detail and detail in sl else "")

    return pd.concat([
        _rows(category, NEW, added["USUBJID"], added[date_col], record(added), "", _text(added[date_col])),
        _rows(category, REMOVED, gone["USUBJID"], gone[date_col], record(gone), _text(gone[date_col]), ""),
    ], ignore_index=True)


def _death_dates(old_sl, new_sl) -> pd.DataFrame:
    """Deaths in both cuts whose recorded date changed."""
    both = old_sl.loc[old_sl["DTHFL"] == "Y", ["USUBJID", "DTHDT"]].merge(
        new_sl.loc[new_sl["DTHFL"] == "Y", ["USUBJID", "DTHDT"]], on="USUBJID", suffixes=("_OLD", "_NEW"))
    moved = both.loc[_text(both["DTHDT_OLD"]) != _text(both["DTHDT_NEW"])]
    return _rows(DEATHS, CHANGED, moved["USUBJID"], moved["DTHDT_NEW"], "Death date", _text(moved["DTHDT_OLD"]),
                 _text(moved["DTHDT_NEW"]))


def _baseline_corrections(old_sl, new_sl) -> pd.DataFrame:
    """Values fixed at randomization that differ between the cuts, one row per subject and variable."""
    columns = [c for c in BASELINE_COLUMNS if c in old_sl and c in new_sl]
    old_r = old_sl.loc[old_sl["RANDFL"] == "Y", ["USUBJID", *columns]]
    new_r = new_sl.loc[new_sl["RANDFL"] == "Y", ["USUBJID", *columns]]
    both = old_r.merge(new_r, on="USUBJID", suffixes=("_OLD", "_NEW"))
    parts = []
    for col in columns:
        old_v, new_v = _text(both[f"{col}_OLD"]), _text(both[f"{col}_NEW"])
        hit = old_v != new_v
        parts.append(_rows(CORRECTED, CHANGED, both.loc[hit, "USUBJID"], pd.NaT, f"Subject {col}", old_v[hit],
                           new_v[hit]))
    return pd.concat(parts, ignore_index=True) if parts else empty_listing()


def _ae_keyed(adae: pd.DataFrame) -> pd.DataFrame:
    """ADAE with its cross-cut key: the occurrence numbers events of one term starting on one day."""
    out = adae[["USUBJID", "AEDECOD", "ASTDT", "AETOXGRN", "AESER"]].copy()
    out["OCCURRENCE"] = out.groupby(["USUBJID", "AEDECOD", "ASTDT"], dropna=False).cumcount()
    return out


def _ae_label(ae: pd.DataFrame, suffix: str = "") -> pd.Series:
    grade = ae[f"AETOXGRN{suffix}"].astype("Int64").astype(str).replace("<NA>", "?")
    serious = (ae[f"AESER{suffix}"] == "Y").map({True: ", serious", False: ""})
    return "grade " + grade + serious


def _serious_aes(old_ae: pd.DataFrame, new_ae: pd.DataFrame) -> list[pd.DataFrame]:
    """SAEs and grade >= 3 AEs that appeared, changed or disappeared; grade/seriousness corrections."""
    both = old_ae.merge(new_ae, on=list(AE_KEY), how="outer", suffixes=("_OLD", "_NEW"), indicator=True)

    def qualifies(suffix):
        return ((both[f"AESER{suffix}"] == "Y") | (both[f"AETOXGRN{suffix}"] >= 3)).fillna(False).astype(bool)

    q_old, q_new = qualifies("_OLD"), qualifies("_NEW")
    in_both = both["_merge"] == "both"
    differs = in_both & (_differs(both["AETOXGRN_OLD"], both["AETOXGRN_NEW"])
                         | _differs(both["AESER_OLD"], both["AESER_NEW"]))
    old_label = _ae_label(both, "_OLD").where(both["_merge"] != "right_only", "")
    new_label = _ae_label(both, "_NEW").where(both["_merge"] != "left_only", "")
    record = both["AEDECOD"].astype(str)

    def rows(category, change, mask):
        hit = both.loc[mask]
        return _rows(category, change, hit["USUBJID"], hit["ASTDT"], record[mask], old_label[mask], new_label[mask])

    # Progression to a fatal outcome is follow-up, not a correction of the record.
    corrected = differs & (both["AETOXGRN_NEW"] != FATAL_GRADE).fillna(True).astype(bool)
    return [rows(SERIOUS_AES, NEW, q_new & ~q_old), rows(SERIOUS_AES, REMOVED, q_old & ~q_new),
            rows(SERIOUS_AES, CHANGED, q_old & q_new & differs), rows(CORRECTED, CHANGED, corrected)]


def _response_changes(old_rs: pd.DataFrame, new_rs: pd.DataFrame) -> pd.DataFrame:
    """Response assessments present in both cuts whose recorded response changed (re-assessments)."""
    key = ["USUBJID", "PARAMCD", "ADT"]
    both = old_rs[[*key, "AVALC"]].merge(new_rs[[*key, "AVALC"]], on=key, suffixes=("_OLD", "_NEW"))
    hit = both.loc[_text(both["AVALC_OLD"]) != _text(both["AVALC_NEW"])]
    return _rows(RESPONSES, CHANGED, hit["USUBJID"], hit["ADT"], "Response " + hit["PARAMCD"].astype(str),
                 _text(hit["AVALC_OLD"]), _text(hit["AVALC_NEW"]))


def _primary_assessments(old_rs: pd.DataFrame, new_rs: pd.DataFrame, day: float) -> pd.DataFrame:
    """Primary endpoint assessments (overall response at the primary visit) new, changed or removed."""
    key = ["USUBJID", "PARAMCD", "AVISITN"]

    def primary(rs):
        return rs.loc[(rs["PARAMCD"] == "OVRLRESP") & (rs["AVISITN"] == day), [*key, "ADT", "AVALC"]]

    both = primary(old_rs).merge(primary(new_rs), on=key, how="outer", suffixes=("_OLD", "_NEW"), indicator=True)
    record = f"Response at day {day:g}"
    date = both["ADT_NEW"].fillna(both["ADT_OLD"])
    old_v, new_v = _text(both["AVALC_OLD"]), _text(both["AVALC_NEW"])
    parts = []
    for change, mask in ((NEW, both["_merge"] == "right_only"), (REMOVED, both["_merge"] == "left_only"),
                         (CHANGED, (both["_merge"] == "both") & (old_v != new_v))):
        parts.append(_rows(PRIMARY, change, both.loc[mask, "USUBJID"], date[mask], record, old_v[mask], new_v[mask]))
    return pd.concat(parts, ignore_index=True)
