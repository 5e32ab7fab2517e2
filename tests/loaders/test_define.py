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


ADAM_DEFINE = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1" ODMVersion="1.3.2">
 <Study OID="S"><MetaDataVersion OID="MDV" Name="m">
  <ItemGroupDef OID="IG.ADSL" Name="ADSL" Repeating="No"><ItemRef ItemOID="IT.AGE" Mandatory="No"/></ItemGroupDef>
  <ItemGroupDef OID="IG.ADAE" Name="ADAE" Repeating="Yes"><ItemRef ItemOID="IT.ATOXGR" Mandatory="No"/></ItemGroupDef>
  <ItemGroupDef OID="IG.ADLB" Name="ADLB" Repeating="Yes"><ItemRef ItemOID="IT.AGE" Mandatory="No"/></ItemGroupDef>
  <ItemDef OID="IT.AGE" Name="AGE" DataType="integer"><Description><TranslatedText xml:lang="en">Age at consent &lt;years&gt;</TranslatedText></Description></ItemDef>
  <ItemDef OID="IT.ATOXGR" Name="ATOXGR" DataType="text"><Description><TranslatedText xml:lang="en">Toxicity grade as reported</TranslatedText></Description></ItemDef>
 </MetaDataVersion></Study>
</ODM>
"""


def test_define_labels_reach_the_data_quality_tables_and_the_patient_profile(tmp_path):
    """A CSV trial (no labels of its own) with a define.xml: its labels head the raw variables on screen."""
    import pandas as pd
    import panel as pn

    from dashboard.loaders import load_dataset
    from dashboard.views.data_quality import findings_frame, left_out_frame
    from dashboard.views.swimmer import patient_profile
    from tests.loaders.test_adam import ADSL

    ADSL.to_csv(tmp_path / "adsl.csv", index=False)
    pd.DataFrame({"USUBJID": ["S-1", "S-2"], "AESEQ": [1, 1], "AEDECOD": ["Rash", "Cough"], "AEBODSYS": ["Skin", "Resp"],
                  "ATOXGR": ["2", "7"], "AESTDTC": ["2014-01-05", "2014-01-09"]}).to_csv(tmp_path / "adae.csv", index=False)
    (tmp_path / "define.xml").write_text(ADAM_DEFINE, encoding="utf-8")
    dataset = load_dataset(tmp_path)
    assert dataset.info.column_labels == {"adsl": {"AGE": "Age at consent <years>"},
                                          "adae": {"ATOXGR": "Toxicity grade as reported"}}  # ADLB: not loaded
    assert dataset.info.sources["column_labels"].startswith("define.xml")
    findings = findings_frame(dataset.report, dataset.info.column_labels)
    assert findings.loc[findings["Column"] == "ATOXGR", "Label"].tolist() == ["Toxicity grade as reported"]
    left = left_out_frame(dataset)
    assert left.loc[left["Column"] == "ATOXGR", "Label"].tolist() == ["Toxicity grade as reported"]
    profile = patient_profile(dataset, "S-1")
    facts = profile.select(pn.pane.HTML)[0].object
    assert '<dt title="AGE">Age at consent &lt;years&gt;</dt><dd>60' in facts  # escaped, CDISC name in the tooltip


def test_define_labels_override_the_files_own_labels(pilot_dir, tmp_path):
    import shutil

    from dashboard.loaders import load_dataset

    assert load_dataset(pilot_dir).info.column_labels["adae"]["AEDECOD"] == "Dictionary-Derived Term"
    copy = tmp_path / "pilot"
    shutil.copytree(pilot_dir, copy)
    path = copy / "define.xml"
    define = path.read_text(encoding="iso-8859-1")  # the encoding its XML declaration names
    assert 'def:Label="Dictionary-Derived Term"' in define
    path.chmod(0o644)  # the shared copy is read-only
    path.write_text(define.replace('def:Label="Dictionary-Derived Term"', 'def:Label="Preferred term (MedDRA)"'),
                    encoding="iso-8859-1")
    labels = load_dataset(copy).info.column_labels
    assert labels["adae"]["AEDECOD"] == "Preferred term (MedDRA)" and labels["adsl"]["DTHFL"] == "Subject Died?"
