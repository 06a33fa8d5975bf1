"""The generator's promise: same arguments, same bytes (every format, the minimal log, defects).

The hashes were recorded with the single-module generator before it became the
orchestration.lib.generator package, and the package reproduces them. The register is a frozen copy
(tests/unit/data/generator_register.yml) so that tuning command_center.yml does not move these
bytes; the generator reads its owners, exception classes, aging alerts and redaction fields.
If a change to the generator is meant to change its output, say so in the commit and update the
hashes here. Last deliberate change: the minimal log's printer outage two days before end_date
(label_print_failed on the cases started that day, generator/minimal.py; the alerting volume rule's
spike); the telemetry and XES logs are unchanged. Before it: stuck runs at the end of the window.
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
    "events-jsonl-0.0": "02ce5b48e0d4ab8858d30807cf8a09c2dd14e053689944713c59c0c63290c476",
    "events-jsonl-0.005": "5955308662818928d1cdc8c4f1d915792ef6fe24ca9d01a39513b18b574f0163",
    "events-jsonl-0.05": "162dd0db4cdbeb076446e62439826d7e7d532b4700507be6e32bdb4a4a7421a7",
    "events-csv-0.0": "8029800809d759af85629179a07be9b40d14b551421b8f681f3eae41cc295327",
    "events-csv-0.005": "be5b26c5c45e067ec171669b3fb833f29d25e2d04d105f3baced0c9ff807beea",
    "events-csv-0.05": "7c1551a65016bd4f904a97a5958c9211c92cb99563668f42380aa9a9154e9947",
    "events-parquet-0.0": "5f40aaa849325e49f73aba6d18337f28630c7073b8b9941e7ce33a9cf93eb531",
    "events-parquet-0.005": "58f9b907ba2ca93e7fed4a9eaf6fec2a135e13f267d6bba12619c5f070b0e3b3",
    "events-parquet-0.05": "7f6544303322dc21ecaf5571411aea9ff1034b239f4982b03c7926abee972ebc",
    "minimal-jsonl": "098d43aa013cece623217c9cfd6fc7ccd2b0e007327d8df1108c22a142c8786b",
    "minimal-csv": "53f027731d8c67c0c2e3fde6f253f2fdc484630d15a6143e882f5a41ff8ccae9",
    "minimal-parquet": "5d45c80869d8a652896a6c898e2ec4671bb4af9f1264e70eb5729dd585f8a404",
    # a registered workflow workflows.yml has no shape for: the generic spec derived from its id
    "events-jsonl-0.05-custom": "fdeb9034d3d1ec095dfaa84712fb9874d88c8521e299329b95c7b49c7b655e9a",
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
