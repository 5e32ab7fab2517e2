"""A trial loaded as a series of data cuts: a folder with one sub-folder per cut.

A sub-folder is a cut when its name holds a date (`2017-06-30`, `cut_20170630`) or when it is a model
folder whose metadata.json states the cut; each is read by `load_dataset`, so any format the loaders
read works. Tables equal to the previous cut's are shared, not held twice, so memory grows with the
data that differ between cuts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from ..model.dataset import METADATA_FILE, OPTIONAL_TABLES, TrialDataset, file_sha256
from ..model.rules import BLOCKING
from .detect import is_data_file

DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


@dataclass(frozen=True)
class TrialSeries:
    """The cuts of one trial, oldest first, each a validated `TrialDataset` (shared, read-only)."""

    folder: Path
    cuts: tuple[TrialDataset, ...]

    @property
    def dates(self) -> list[str]:
        """The cut dates (ISO), oldest first."""
        return [d.cutoff.date().isoformat() for d in self.cuts]

    @property
    def latest(self) -> TrialDataset:
        return self.cuts[-1]

    def at(self, date) -> TrialDataset:
        """The cut of that date (KeyError naming the cuts there are)."""
        key = pd.Timestamp(date).date().isoformat()
        if key not in self.dates:
            raise KeyError(f"no data cut {key}; the cuts are {', '.join(self.dates)}")
        return self.cuts[self.dates.index(key)]

    def before(self, date) -> list[str]:
        """The cut dates earlier than `date`, latest first (what a cut can be compared with)."""
        key = pd.Timestamp(date).date().isoformat()
        return [d for d in reversed(self.dates) if d < key]


def cut_date_of(folder: Path) -> pd.Timestamp | None:
    """The cut a sub-folder holds: a date in its name, else the cut its metadata.json states, else None."""
    match = DATE_IN_NAME.search(folder.name)
    if match:
        try:
            return pd.Timestamp("-".join(match.groups()))
        except ValueError:
            pass
    meta = folder / METADATA_FILE
    if meta.is_file():
        try:
            return pd.Timestamp(json.loads(meta.read_text(encoding="utf-8"))["cutoff"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
    return None


def cut_folders(path) -> list[tuple[pd.Timestamp, Path]]:
    """The (cut date, sub-folder) pairs of a series folder, oldest first; [] when `path` is not one
    (a file, a list of paths, or a folder holding data files itself)."""
    if isinstance(path, (list, tuple)):
        return cut_folders(path[0]) if len(path) == 1 else []
    folder = Path(path)
    if not folder.is_dir() or (folder / METADATA_FILE).exists() or any(is_data_file(p) for p in folder.iterdir()):
        return []
    found = [(cut_date_of(sub), sub) for sub in folder.iterdir() if sub.is_dir()]
    return sorted((date, sub) for date, sub in found if date is not None)


def is_cut_series(path) -> bool:
    """Whether `path` is a folder of data cuts (see `cut_folders`)."""
    return bool(cut_folders(path))


def load_series(folder, mapping=None) -> TrialSeries:
    """Load every cut of a series folder (raises DatasetValidationError naming the cut that is blocked)."""
    from . import load_dataset

    pairs = cut_folders(folder)
    if not pairs:
        raise FileNotFoundError(f"{folder}: not a folder of data cuts (sub-folders named by date)")
    cuts: list[TrialDataset] = []
    for _, sub in pairs:
        dataset = load_dataset(sub, mapping)
        cuts.append(share_unchanged(dataset, cuts[-1]) if cuts else dataset)
    return TrialSeries(Path(folder), tuple(cuts))


def share_unchanged(dataset: TrialDataset, previous: TrialDataset) -> TrialDataset:
    """`dataset` holding the previous cut's objects wherever they are equal, so one copy is in memory:
    a whole table when equal, else each equal column of a table with the same rows (e.g. ADSL once
    enrollment ends, where only status columns change)."""
    same = {}
    for name in ("adsl", *OPTIONAL_TABLES):
        new, old = getattr(dataset, name), getattr(previous, name)
        if new is None or old is None or new is old:
            continue
        if new.equals(old):
            same[name] = old
        elif list(new.columns) == list(old.columns) and len(new) == len(old) and new.index.equals(old.index) \
                and "USUBJID" in new and new["USUBJID"].equals(old["USUBJID"]):
            columns = {c: old[c] if new[c].equals(old[c]) else new[c] for c in new.columns}
            same[name] = pd.DataFrame(columns, copy=False)
    return replace(dataset, **same) if same else dataset


@dataclass(frozen=True)
class DataCheck:
    """What changed in a served data folder since it was loaded."""

    new_cuts: tuple[str, ...] = ()  # cut dates that arrived and load
    broken_cuts: tuple[str, ...] = ()  # "2020-06-30: why it cannot be loaded"
    changed_files: tuple[str, ...] = ()  # "adsl.parquet of cut 2018-06-30: changed since it was loaded"

    @property
    def anything(self) -> bool:
        return bool(self.new_cuts or self.broken_cuts or self.changed_files)


class DataWatcher:
    """Watches the folder a server reads: new cut sub-folders (validated before they are offered) and
    files of the loaded data that changed or vanished (checked by SHA-256 whenever size or time changes).

    One per served folder, shared by its sessions; it only reads the folder.
    """

    def __init__(self, datasets: list[TrialDataset], folder=None):
        self.folder = None if folder is None else Path(folder)
        self.known_cuts = {d.cutoff.date().isoformat() for d in datasets}
        self.files = {}  # path -> (cut, loaded sha256)
        for d in datasets:
            for f in (d.provenance.get("files") or {}).values():
                self.files[str(f["path"])] = (d.cutoff.date().isoformat(), str(f["sha256"]))
        self._stats: dict[str, tuple] = {}  # path -> (size, mtime_ns, sha256 then)
        self._cut_results: dict[tuple, str | None] = {}  # (folder, stamp) -> None when it loads, else why not

    def check(self) -> DataCheck:
        """Compare the folder with what was loaded (cheap when nothing changed: one stat per file)."""
        from . import validate_path

        changed = []
        for path, (cut, sha) in self.files.items():
            try:
                stat = Path(path).stat()
            except OSError:
                changed.append(f"{Path(path).name} of data cut {cut}: missing since it was loaded")
                continue
            seen = self._stats.get(path)
            if seen is None or seen[:2] != (stat.st_size, stat.st_mtime_ns):
                seen = (stat.st_size, stat.st_mtime_ns, file_sha256(Path(path)))
                self._stats[path] = seen
            if seen[2] != sha:
                changed.append(f"{Path(path).name} of data cut {cut}: changed since it was loaded "
                               f"(sha256 {sha[:8]} shown, {seen[2][:8]} on disk)")
        new, broken = [], []
        for date, sub in (cut_folders(self.folder) if self.folder is not None else []):
            key = date.date().isoformat()
            if key in self.known_cuts:
                continue
            stamp = (str(sub), tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sub.iterdir()
                                            if p.is_file())))
            if stamp not in self._cut_results:
                report = validate_path(sub)
                problems = [f.rule for f in report.findings if f.severity == BLOCKING or f.rule_id == "file-unreadable"]
                self._cut_results[stamp] = "; ".join(problems[:2]) if problems else None
            why = self._cut_results[stamp]
            if why:
                broken.append(f"{key}: {why}")
            else:
                new.append(key)
        return DataCheck(tuple(new), tuple(broken), tuple(changed))
