"""The generator's promise: same arguments, same bytes (every format, the minimal log, defects).

The hashes were recorded with the single-module generator before it became the
orchestration.lib.generator package, and the package reproduces them. The register is a frozen copy
(tests/unit/data/generator_register.yml) so that tuning command_center.yml does not move these
bytes; the generator reads its owners, exception classes, aging alerts and redaction fields.
If a change to the generator is meant to change its output, say so in the commit and update the
hashes here.
"""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
import yaml

from orchestration.lib.generator import (
    SpecError,
    default_catalog,
    generate_events,
    generate_minimal_log,
    load_catalog,
    write_events,
)
from orchestration.lib.generator.specs import SPEC_PATH, parse_catalog
from orchestration.lib.register import load_register

DATA = Path(__file__).parent / "data"
END = date(2026, 11, 23)
SHA256 = {
    "events-jsonl-0.0": "4d0fadb88be2e1597840ded97999a5eb5a45d4c46ce8c9ce93fc1eb1823bdade",
    "events-jsonl-0.005": "65af6d4e6953e53c41dd09a8d3c3650cb1720fe07e82edf71e4336c9b750a629",
    "events-jsonl-0.05": "942051908a7577c3ce2b8109a53e01bebcc27c8ef772131a31e6f388f935a814",
    "events-csv-0.0": "2205f6dfda49a75874b1aeb1f4765a1c0106c3f417865ce77ca9c0f464dc78e6",
    "events-csv-0.005": "4c212baa0cfbec1349175ebb0aec13830a369953d80e389d73c80911bb177bb0",
    "events-csv-0.05": "3964bfd006ef342111b8fda00fcf58c32fc186f53101be43e7884fc66185caf9",
    "events-parquet-0.0": "d8838b05a1e11e903e3fa010b0b1645611434dccc141a6194aaf2a7c7dd82a3e",
    "events-parquet-0.005": "264f4ca7b33ac02f520d155e83f70d03f0d1cb32a8a744417538838b58891f12",
    "events-parquet-0.05": "41e9009a60fac63e260d60f6a2411af80a660985d30b533e85488f3b4435ffc5",
    "minimal-jsonl": "ce1f51af27415882b9c2ca56f17d7eb4b4a98fa86ef996833b2bef3a5a6ca14c",
    "minimal-csv": "16d378c500346008428be811767a716139f7a30705748700398216ecac85ae74",
    "minimal-parquet": "e8b1c85253ae6b0a4234a8683c8a906a71faccb45ae461f4087e33f386fe1736",
    # a registered workflow workflows.yml has no shape for: the generic spec derived from its id
    "events-jsonl-0.05-custom": "46199efd04f7a609eef391c92bc4cdb737f35ce380acc378c71f3ed2bd08e2bf",
}


@pytest.fixture(scope="module")
def registers(tmp_path_factory):
    text = (DATA / "generator_register.yml").read_text()
    custom = tmp_path_factory.mktemp("register") / "custom.yml"
    custom.write_text(text.replace("fulfillment_v2", "custom_flow_v9"))
    return {"shipped": load_register(DATA / "generator_register.yml"), "custom": load_register(custom)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(SHA256))
def test_same_arguments_give_the_recorded_bytes(name, registers, tmp_path):
    kind, fmt, *rest = name.split("-")
    path = tmp_path / f"out.{fmt}"
    if kind == "minimal":
        table = generate_minimal_log(days=6, cases_per_day=9, seed=42, end_date=END)
    else:
        register = registers["custom" if rest[-1] == "custom" else "shipped"]
        table = generate_events(days=9, runs_per_day=7, seed=42, end_date=END, defect_rate=float(rest[0]),
                                register=register, fmt=fmt)
    write_events(table, path, fmt)
    assert _sha256(path) == SHA256[name]


def test_the_packaged_specs_load_and_name_six_workflows():
    catalog = default_catalog()
    assert len(catalog.workflows) == 6
    assert catalog.unregistered.workflow_id == "legacy_batch_v0"
    for spec in catalog.workflows.values():
        assert spec.people and set(spec.people) <= set(catalog.people)
        assert spec.approval_before is None or 0 <= spec.approval_before < len(spec.stages)
    assert load_catalog(SPEC_PATH) == catalog


def _doc() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["workflows"]["fulfillment_v2"].update(colour="red"), "unknown key(s) colour"),
        (lambda d: d["workflows"]["fulfillment_v2"]["stages"][0].update(kind="robot"), "kind must be one of"),
        (lambda d: d["workflows"]["fulfillment_v2"]["stages"][0].update(median=0), "median must be positive"),
        (lambda d: d["workflows"]["fulfillment_v2"]["stages"][0].update(p_retry=1.5), "p_retry is a probability"),
        (lambda d: d["workflows"]["invoice_posting_v1"].update(approval_before=9), "approval_before must be"),
        (lambda d: d["workflows"]["fulfillment_v2"].update(stages=[]), "stages must be a non-empty list"),
        (lambda d: d["workflows"]["fulfillment_v2"].update(attributes="spaceship"), "attributes must be one of"),
        (lambda d: d["workflows"]["fulfillment_v2"].update(volume_weight="lots"), "volume_weight must be"),
        (lambda d: d.pop("people"), "people: expected a list"),
    ],
)
def test_malformed_specs_are_refused_with_the_entry_and_rule(edit, message):
    doc = _doc()
    edit(doc)
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_catalog(doc)


def test_an_unreadable_spec_file_is_a_spec_error(tmp_path):
    bad = tmp_path / "workflows.yml"
    bad.write_text("workflows: [unclosed")
    with pytest.raises(SpecError, match="cannot read workflow specs"):
        load_catalog(bad)
