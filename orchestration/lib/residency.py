"""Data residency (issue 13 part 4): where the warehouse runs, and which regions may not land in it.

The register says where the warehouse runs (``data_controls.warehouse``: its ``region`` and/or its
``jurisdiction``) and, per region of ``data_controls.residency``, whether its rows must be processed
in the EU only (``eu_only_processing``). A region's jurisdiction is the one it declares
(``data_controls.residency.<region>.jurisdiction``), else the one its cloud-region name tells
(``REGION_PREFIX_JURISDICTIONS``: ``eu-*`` and ``europe-*`` are EU, ``us-*`` US, ...). An EU region
is one whose jurisdiction is ``EU``.

The landing rule (orchestration/lib/landing/validation.py, reason code ``residency_violation``):
rows of a region with ``eu_only_processing: true`` are quarantined, never loaded, when the warehouse's
jurisdiction is not EU, or is not declared (a warehouse whose location the register does not state
cannot be shown to be in the EU). docs/residency.md says the same in prose.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from orchestration.lib.register import Register

#: The jurisdiction of the EU (the one ``eu_only_processing`` asks for).
EU = "EU"

#: Cloud-region name prefixes and their jurisdiction (AWS ``eu-west-1``, GCP ``europe-west1``, Azure
#: names are not prefixed and must declare theirs). Longest prefix first.
REGION_PREFIX_JURISDICTIONS: tuple[tuple[str, str], ...] = (
    ("us-gov-", "US"),
    ("eu-", EU),
    ("europe-", EU),
    ("us-", "US"),
    ("ca-", "CA"),
    ("ap-southeast-2", "AU"),
    ("australia-", "AU"),
    ("ap-northeast-1", "JP"),
    ("ap-south-1", "IN"),
    ("sa-east-1", "BR"),
)

#: The reason code of the landing rule (contract.REASON_CODES describes it).
REASON_CODE = "residency_violation"


def jurisdiction_of_name(region: str) -> str | None:
    """The jurisdiction a cloud-region name tells, or None when it tells none."""
    name = region.strip().lower()
    for prefix, jurisdiction in REGION_PREFIX_JURISDICTIONS:
        if name.startswith(prefix):
            return jurisdiction
    return None


def region_jurisdiction(residency: Mapping, region: str) -> str | None:
    """A region's jurisdiction: declared under data_controls.residency, else from its name."""
    declared = getattr(residency.get(region), "jurisdiction", None)
    return declared or jurisdiction_of_name(region)


def warehouse_location_error(warehouse, residency: Mapping) -> str | None:
    """Why data_controls.warehouse is unusable (None when it is fine): no region nor jurisdiction, a
    region whose jurisdiction cannot be told, or a declared jurisdiction the region contradicts."""
    if warehouse is None:
        return None
    if warehouse.region is None and warehouse.jurisdiction is None:
        return "must give region or jurisdiction (e.g. {region: eu-west-1} or {jurisdiction: EU})"
    if warehouse.region is None:
        return None
    of_region = region_jurisdiction(residency, warehouse.region)
    if of_region is None and warehouse.jurisdiction is None:
        return (f"cannot tell the jurisdiction of region {warehouse.region!r}: give data_controls.warehouse.jurisdiction "
                f"or data_controls.residency.{warehouse.region}.jurisdiction")
    if of_region is not None and warehouse.jurisdiction is not None and of_region != warehouse.jurisdiction:
        return (f"jurisdiction {warehouse.jurisdiction!r} contradicts region {warehouse.region!r}, "
                f"whose jurisdiction is {of_region!r}")
    return None


def warehouse_jurisdiction(register: Register) -> str | None:
    """The warehouse's jurisdiction, None when the register does not state where it runs."""
    wh = register.data_controls.warehouse
    if wh is None:
        return None
    return wh.jurisdiction or (region_jurisdiction(register.data_controls.residency, wh.region) if wh.region else None)


def warehouse_is_eu(register: Register) -> bool:
    return warehouse_jurisdiction(register) == EU


def blocked_regions(register: Register) -> list[str]:
    """The regions whose rows may not land in this warehouse: those with eu_only_processing when the
    warehouse is not (known to be) in the EU; sorted. Empty when the warehouse is in the EU."""
    if warehouse_is_eu(register):
        return []
    return sorted(r for r, c in register.data_controls.residency.items() if c.eu_only_processing)


def warehouse_description(register: Register) -> str:
    """One line for summaries and hints: where the register says the warehouse runs."""
    wh = register.data_controls.warehouse
    if wh is None:
        return "not declared (data_controls.warehouse), so not known to be in the EU"
    where = " / ".join(x for x in (wh.region, warehouse_jurisdiction(register)) if x)
    return f"{where} (data_controls.warehouse)"


def residency_rule_sql(regions: list[str]) -> str:
    """The landing rule's condition on column ``region`` (literals only: names come from the register)."""
    from orchestration.lib.landing.common import sql_literal

    if not regions:
        return "false"
    return f"region in ({', '.join(sql_literal(r) for r in regions)})"


def withheld_record_sql(expr: str) -> str:
    """What raw.quarantine.raw_record keeps of a ``residency_violation`` row: its length and salted
    sha256 only (the row's content must not be stored outside the EU; a copy of the file kept in the EU
    can be matched to it)."""
    return f"('<withheld (residency): ' || length({expr}) || ' characters, sha256:' || sha256($salt || {expr}) || '>')"
