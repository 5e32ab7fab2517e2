"""The validation rules, each with its severity and what happens to the data it catches.

Three severities:

- **blocking**: no dashboard can be built (no subject-level table, no subject id or arm, nobody
  randomized). Nothing loads; `trial-dashboard validate` exits 1.
- **row-level**: some rows or values cannot be trusted. The affected rows are left out (or the
  affected value set to missing when the row is still usable); the trial loads, the views say how
  many records were left out and the Data quality tab lists each one.
- **informational**: derivations, imputations and files not used; shown, nothing is left out.

`RULES` is the registry the code refers to by id; `rules_markdown()` documents it in
`data/README.md` (generated, like the data dictionary).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

BLOCKING = "blocking"
ROW_LEVEL = "row-level"
INFORMATIONAL = "informational"
SEVERITIES = (BLOCKING, ROW_LEVEL, INFORMATIONAL)

# What a finding does to the data.
NOT_LOADED = "nothing loads"
ROW_LEFT_OUT = "row left out"
VALUE_SET_MISSING = "value set to missing"
TABLE_LEFT_OUT = "dataset left out"
KEPT = "kept as is"


@dataclass(frozen=True)
class Rule:
    """One validation rule: its id (used in findings), severity, effect on the data and description."""

    id: str
    severity: str
    action: str
    description: str


_RULES = (
    Rule("no-subject-table", BLOCKING, NOT_LOADED,
         "No readable subject-level dataset (ADSL for ADaM, DM for SDTM) among the files, and no mapping "
         "names one."),
    Rule("several-subject-tables", BLOCKING, NOT_LOADED,
         "Several files look like the subject-level dataset and the mapping file does not name the right one."),
    Rule("subject-column-missing", BLOCKING, NOT_LOADED,
         "The subject-level dataset lacks a required column (study, subject id, site, arm, population flags) "
         "and no mapping supplies it."),
    Rule("no-randomized-subjects", BLOCKING, NOT_LOADED,
         "The subject-level dataset has no rows (header only), or no randomized subject once the rows left out "
         "are removed (e.g. every subject a screen failure)."),
    Rule("loader-failure", BLOCKING, NOT_LOADED,
         "The subject-level dataset could not be processed (an unexpected error, named with its file)."),
    Rule("file-unreadable", ROW_LEVEL, TABLE_LEFT_OUT,
         "A data file cannot be read (corrupt, empty, unknown encoding); it is left out. Blocking when it "
         "is the only candidate for the subject-level dataset."),
    Rule("table-column-missing", ROW_LEVEL, TABLE_LEFT_OUT,
         "An optional dataset (adverse events, responses, time to event, exposure, sites) lacks a required "
         "column; that dataset is left out and the views that need it say so."),
    Rule("several-files-one-role", ROW_LEVEL, TABLE_LEFT_OUT,
         "Several files look like the same optional dataset; none is used until the mapping file names one."),
    Rule("table-unusable", ROW_LEVEL, TABLE_LEFT_OUT,
         "An optional dataset could not be processed (an unexpected error, named with its file); it is left out."),
    Rule("value-missing", ROW_LEVEL, ROW_LEFT_OUT,
         "A value the row cannot do without (subject id, arm, population flag, parameter, time, censoring, "
         "preferred term...) is missing."),
    Rule("value-unreadable", ROW_LEVEL, f"{ROW_LEFT_OUT} or {VALUE_SET_MISSING}",
         "A value cannot be read as its type (number, date, Y/N). The row is left out when the column is "
         "required; otherwise the value is set to missing and the row kept."),
    Rule("value-out-of-range", ROW_LEVEL, f"{ROW_LEFT_OUT} or {VALUE_SET_MISSING}",
         "A value lies outside its allowed range or categories (e.g. age > 120, CNSR not 0/1, grade 7). The row "
         "is left out when the column is required; otherwise the value is set to missing and the row kept."),
    Rule("duplicate-subject", ROW_LEVEL, ROW_LEFT_OUT,
         "Several subject-level rows share one USUBJID: exact copies keep one row; conflicting rows are all "
         "left out (with the subject's other records)."),
    Rule("duplicate-record", ROW_LEVEL, ROW_LEFT_OUT,
         "Several rows share a key that must be unique (ADTTE subject and parameter, SITES site id): exact "
         "copies keep one row; conflicting rows are all left out."),
    Rule("orphan-record", ROW_LEVEL, ROW_LEFT_OUT,
         "A record's subject is not in the subject-level dataset."),
    Rule("subject-left-out", ROW_LEVEL, ROW_LEFT_OUT,
         "A record of a subject whose subject-level row was left out by another rule."),
    Rule("death-before-randomization", ROW_LEVEL, ROW_LEFT_OUT,
         "The death date precedes the randomization date: the subject is left out (neither date can be trusted)."),
    Rule("randomized-before-screening", ROW_LEVEL, VALUE_SET_MISSING,
         "The randomization date precedes the screening date: the screening date is set to missing."),
    Rule("alive-after-death", ROW_LEVEL, VALUE_SET_MISSING,
         "The last-known-alive date follows the death date: it is set to missing (death is the last date)."),
    Rule("record-before-randomization", ROW_LEVEL, ROW_LEFT_OUT,
         "A response assessment or dose is dated before the subject's randomization."),
    Rule("record-after-death", ROW_LEVEL, ROW_LEFT_OUT,
         "An adverse event, response assessment or dose is dated after the subject's death."),
    Rule("date-after-cut", ROW_LEVEL, f"{ROW_LEFT_OUT} or {VALUE_SET_MISSING}",
         "A date falls after the data cut. A row whose own date is after it is left out (adverse-event onset, "
         "response assessment, dose, time-to-event date; a subject screened or randomized after the cut); any "
         "other date after the cut (e.g. an AE end date, a death date) is set to missing."),
    Rule("date-implausible", ROW_LEVEL, f"{ROW_LEFT_OUT} or {VALUE_SET_MISSING}",
         "With no stated data cut, a date in the future or far beyond the bulk of the trial's dates (beyond "
         "Q3 + 3 IQR and rarer than 1%) is treated as a typing error: excluded from the cut, and handled "
         "as a date after the cut."),
    Rule("cut-implausible", INFORMATIONAL, KEPT,
         "A stated data cut (metadata, mapping file or cut column) is unreadable or in the future; the next "
         "source is used (cut column, then the latest plausible date)."),
    Rule("metadata-unreadable", INFORMATIONAL, KEPT,
         "A model folder's metadata.json is not valid JSON or lacks the data cut; the cut is taken from the data."),
    Rule("death-flag-without-date", INFORMATIONAL, KEPT,
         "A subject flagged as dead (DTHFL = Y) has no death date."),
    Rule("unknown-site", INFORMATIONAL, KEPT,
         "A subject's site is not in the sites table; the subject is shown without site details."),
    Rule("empty-table", INFORMATIONAL, TABLE_LEFT_OUT,
         "An optional dataset has no rows; it is treated as absent."),
    Rule("mapping-column-absent", INFORMATIONAL, KEPT,
         "The mapping file names a column the file does not have (blocking only through a required column)."),
    Rule("file-ignored", INFORMATIONAL, KEPT,
         "A file that is not one of the datasets the dashboard uses; it never blocks loading."),
    Rule("date-imputed", INFORMATIONAL, KEPT,
         "Partial dates imputed (start dates to the first day, end dates to the last day of the month/year; "
         "flag --DTF)."),
    Rule("derived", INFORMATIONAL, KEPT,
         "A variable absent from the data derived by a documented rule (see the ADaM and SDTM loaders)."),
    Rule("duplicate-event", INFORMATIONAL, KEPT,
         "Adverse-event or response rows that share their key columns; kept, as real exports can repeat them."),
)
RULES: Mapping[str, Rule] = MappingProxyType({r.id: r for r in _RULES})


def rules_markdown() -> str:
    """The rules registry as a Markdown section (for `data/README.md`)."""
    lines = [
        "## Validation rules",
        "",
        "Generated from `dashboard/model/rules.py`. *Blocking* findings stop the trial from loading;",
        "*row-level* findings leave the affected rows (or values) out and the trial still loads, with",
        "each view saying how many records were left out and the Data quality tab listing them;",
        "*informational* findings are shown and change nothing. `trial-dashboard validate` exits 0 when",
        "the trial loads, 1 when it is blocked (`--strict`: also when there is any finding), 2 on a usage error.",
        "",
        "| Rule | Severity | Effect | Description |",
        "|---|---|---|---|",
    ]
    for severity in SEVERITIES:
        for rule in _RULES:
            if rule.severity == severity:
                lines.append(f"| `{rule.id}` | {rule.severity} | {rule.action} | {rule.description} |")
    lines.append("")
    return "\n".join(lines)
