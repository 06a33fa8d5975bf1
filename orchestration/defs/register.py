"""The ``governance_register`` asset: validate command_center.yml and land it as governance.* tables."""

from pathlib import Path

import dagster as dg

from orchestration.defs.resources import WAREHOUSE_POOL, LandingResource, WarehouseResource
from orchestration.lib.register import Register, RegisterError, land_register, load_register, register_sha256

GOVERNANCE_REGISTER_KEY = dg.AssetKey("governance_register")


def load_register_or_fail(path: Path) -> Register:
    """The validated register, or a ``dg.Failure`` whose description is the RegisterError message."""
    try:
        return load_register(path)
    except RegisterError as exc:
        raise dg.Failure(
            description=str(exc),
            metadata={
                "register_path": dg.MetadataValue.path(str(path)),
                "errors": dg.MetadataValue.json(exc.errors),
            },
            allow_retries=False,
        ) from None


@dg.asset(
    key=GOVERNANCE_REGISTER_KEY,
    group_name="landing",
    kinds={"python", "duckdb", "yaml"},
    pool=WAREHOUSE_POOL,
    description=(
        "The governance register (command_center.yml): owners, SLOs, exception budgets and routing, "
        "residency and redaction controls, RBAC. Validated, then landed as the governance.* tables "
        "(replaced whole in one transaction; governance.register_versions is appended to)."
    ),
)
def governance_register(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource
) -> dg.MaterializeResult:
    path = landing.register_file
    register = load_register_or_fail(path)
    sha256 = register_sha256(path)
    if warehouse.uses_snowflake:
        # the dbt target is snowflake: the same rows (register_rows), written through the Snowflake sink
        with warehouse.snowflake_landing() as sink:
            counts = sink.land_register(register, source_path=str(path.resolve()), sha256=sha256)
    else:
        with warehouse.connect() as con:
            counts = land_register(con, register, source_path=str(path.resolve()), sha256=sha256)
    context.log.info(
        f"register {path} version {register.version} ({sha256[:12]}): "
        + ", ".join(f"{table}={n}" for table, n in counts.items())
    )
    return dg.MaterializeResult(
        metadata={
            "register_path": dg.MetadataValue.path(str(path)),
            "register_sha256": sha256,
            "register_version": register.version,
            "workflows": len(register.owners),
            "table_row_counts": dg.MetadataValue.json(counts),
            "warehouse": "snowflake" if warehouse.uses_snowflake else dg.MetadataValue.path(str(warehouse.path)),
        },
        # the file's content identifies the data: an unchanged register is the same version
        data_version=dg.DataVersion(sha256),
    )
