"""Dataset and variable labels from a Define-XML file next to the data (column headings for people).

Define-XML (CDISC ODM with the `def:` extension) lists each dataset as an `ItemGroupDef` whose
`ItemRef`s point to `ItemDef`s (one per variable). The label is the `def:Label` attribute in
Define-XML 1.0 and a `Description/TranslatedText` child in 2.x; both are read, English preferred.
Only the labels are taken: the file is parsed with the standard library (no external entities are
fetched) and never written.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class DefineLabels:
    """Labels from one Define-XML file: per dataset (lower-case name) its label and {VARIABLE: label}."""

    path: Path
    datasets: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def find_define(folder) -> Path | None:
    """The Define-XML file of a data folder (or of a data file's folder): `define*.xml`, any case."""
    folder = Path(folder)
    folder = folder if folder.is_dir() else folder.parent
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".xml"
                   and p.name.lower().startswith("define"))
    return found[0] if found else None


def define_labels(folder) -> dict[str, dict[str, str]]:
    """{dataset: {column: label}} from the folder's define.xml ({} when there is none)."""
    path = find_define(folder)
    return {name: dict(cols) for name, cols in read_define(path).columns.items()} if path else {}


def read_define(path) -> DefineLabels:
    """The dataset and variable labels of one Define-XML file (raises ET.ParseError when it is not XML)."""
    path = Path(path)
    root = ET.parse(path).getroot()
    items = {el.get("OID"): el for el in root.iter() if _local(el.tag) == "ItemDef"}
    datasets: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    for group in (el for el in root.iter() if _local(el.tag) == "ItemGroupDef"):
        name = (group.get("Name") or group.get("OID") or "").lower()
        if not name:
            continue
        datasets[name] = _label(group)
        refs = (items.get(ref.get("ItemOID")) for ref in group if _local(ref.tag) == "ItemRef")
        columns[name] = {item.get("Name").upper(): _label(item) for item in refs
                         if item is not None and item.get("Name")}
    return DefineLabels(path, datasets, columns)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _label(element) -> str:
    """def:Label (Define-XML 1.0), else the English (or first) Description/TranslatedText (2.x)."""
    for key, value in element.attrib.items():
        if _local(key) == "Label":
            return value.strip()
    texts = [t for d in element if _local(d.tag) == "Description" for t in d if _local(t.tag) == "TranslatedText"]
    english = [t for t in texts if (t.get(_XML_LANG) or "en").lower().startswith("en")]
    chosen = (english or texts)[:1]
    return (chosen[0].text or "").strip() if chosen else ""
