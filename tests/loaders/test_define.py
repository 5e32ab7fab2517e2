"""Define-XML labels: the pilot's define.xml (v1.0, def:Label) agrees with its SAS labels; v2.x
Description/TranslatedText labels are read too, English first."""

from __future__ import annotations

import pyreadstat

from dashboard.loaders.define import define_labels, find_define, read_define

DEFINE_21 = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1" ODMVersion="1.3.2">
 <Study OID="S"><MetaDataVersion OID="MDV" Name="m">
  <ItemGroupDef OID="IG.DM" Name="DM" Repeating="No" def:Structure="one record per subject">
   <Description><TranslatedText xml:lang="fr">Données démographiques</TranslatedText>
                <TranslatedText xml:lang="en">Demographics</TranslatedText></Description>
   <ItemRef ItemOID="IT.USUBJID" Mandatory="Yes"/><ItemRef ItemOID="IT.DM.AGE" Mandatory="No"/>
  </ItemGroupDef>
  <ItemGroupDef OID="IG.AE" Name="AE" Repeating="Yes">
   <Description><TranslatedText>Adverse Events</TranslatedText></Description>
   <ItemRef ItemOID="IT.USUBJID" Mandatory="Yes"/>
  </ItemGroupDef>
  <ItemDef OID="IT.USUBJID" Name="USUBJID" DataType="text"><Description><TranslatedText xml:lang="en">Unique Subject Identifier</TranslatedText></Description></ItemDef>
  <ItemDef OID="IT.DM.AGE" Name="AGE" DataType="integer"><Description><TranslatedText xml:lang="en">Age</TranslatedText></Description></ItemDef>
 </MetaDataVersion></Study>
</ODM>
"""


def test_pilot_define_labels_match_the_sas_labels_of_its_datasets(pilot_dir):
    labels = define_labels(pilot_dir)
    for name in ("adsl", "adae", "adtte"):
        _, meta = pyreadstat.read_xport(str(pilot_dir / f"{name}.xpt"), metadataonly=True)
        assert labels[name] == {k.upper(): v for k, v in meta.column_names_to_labels.items()}, name


def test_pilot_define_dataset_labels(pilot_dir):
    define = read_define(find_define(pilot_dir / "adsl.xpt"))
    assert define.datasets["adsl"] == "Subject-Level Analysis"
    assert set(define.datasets) >= {"adsl", "adae", "adtte", "adqscibc"} and all(define.datasets.values())


def test_define_21_descriptions_prefer_english_and_share_item_defs(tmp_path):
    (tmp_path / "Define.xml").write_text(DEFINE_21, encoding="utf-8")
    define = read_define(find_define(tmp_path))
    assert define.datasets == {"dm": "Demographics", "ae": "Adverse Events"}
    assert define.columns == {"dm": {"USUBJID": "Unique Subject Identifier", "AGE": "Age"},
                              "ae": {"USUBJID": "Unique Subject Identifier"}}


def test_no_define_no_labels(tmp_path):
    (tmp_path / "adsl.csv").write_text("USUBJID\nS1\n")
    assert find_define(tmp_path) is None and define_labels(tmp_path) == {}
