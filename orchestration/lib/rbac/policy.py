"""What each register role may read: pure decisions, shared by the DuckDB views and the Snowflake SQL.

* **Which marts.** A role reads the marts only with the permission ``read_metrics`` (the same rule as
  the Snowflake grants, macros/governance/grant_register_roles.sql); the exception marts (a name
  containing ``exception``) also need ``read_exceptions``.
* **Which rows.** A mart with a ``workflow_id`` column shows the rows of the workflows in the role's
  scope: the union of the scopes of every assignment (user or group) of the role, ``*`` meaning every
  workflow (and rows whose workflow_id is null or unregistered). A mart without ``workflow_id`` (a
  per-owner, per-team or build-level mart) shows its rows only to a role whose scope is ``*``; to a
  scoped role it is empty (it could not be filtered, so nothing is shown rather than everything).
* **Which columns.** Person fields (:data:`PERSON_COLUMNS`, any ``*_email`` column, and every column
  named like a register redacted field) show :data:`MASK` to a role without ``read_pii``.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: The permission that lets a role read the marts at all; and the one the exception marts need too.
READ_PERMISSION = "read_metrics"
EXCEPTIONS_PERMISSION = "read_exceptions"
#: The permission that lets a role read person fields in clear.
PII_PERMISSION = "read_pii"
#: Every permission the product knows (the register refuses any other: a typo would grant nothing).
KNOWN_PERMISSIONS: tuple[str, ...] = (
    "read_metrics", "read_exceptions", "read_pii", "run_playbook", "approve_low_risk", "approve_high_risk",
    "modify_sla", "assign_owner",
)
#: Mart columns that name a person (an e-mail address or a login) in the mart contracts.
PERSON_COLUMNS: frozenset[str] = frozenset({
    "owner", "service_owner", "workflow_owner", "routed_owner", "approver", "actor", "reviewer", "reviewer_id",
    "route_to", "first_touch_by", "resolved_by", "landed_by_user", "email",
})
PERSON_SUFFIXES: tuple[str, ...] = ("_email",)
#: What a masked value reads as (nulls stay null, so "is there an owner" survives masking).
MASK = "***"
#: The column that keys row-level scope, and the scope entry that means every workflow.
SCOPE_COLUMN, ALL_WORKFLOWS = "workflow_id", "*"


class RbacError(ValueError):
    """The rbac section (or the governance tables it landed as) cannot be turned into policies."""


@dataclass(frozen=True)
class Assignment:
    principal_type: str  # user | group
    principal: str
    role: str
    scope: str  # a workflow_id or '*'


@dataclass(frozen=True)
class RbacSpec:
    """The register's roles (name -> permissions) and assignments (one row per scope entry)."""

    roles: Mapping[str, frozenset[str]]
    assignments: tuple[Assignment, ...] = ()
    redacted_fields: frozenset[str] = field(default_factory=frozenset)
    #: the register's rbac.groups: group -> its members (users); a user is in every group listing it
    group_members: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        folded: dict[str, str] = {}
        for name in self.roles:
            if not name or not name.strip():
                raise RbacError("rbac: a role has a blank name")
            if name.lower() in folded:
                raise RbacError(f"rbac: roles {folded[name.lower()]!r} and {name!r} differ only in case "
                                "(DuckDB and Snowflake fold identifiers: they would be one role)")
            folded[name.lower()] = name
        for a in self.assignments:
            if a.role not in self.roles:
                raise RbacError(f"rbac: an assignment of {a.principal_type} {a.principal!r} names unknown role {a.role!r}")

    @classmethod
    def from_register(cls, register) -> RbacSpec:
        return cls(
            roles={r.name: frozenset(r.permissions) for r in register.rbac.roles},
            assignments=tuple(
                Assignment("user" if a.user else "group", a.user or a.group, a.role, s)
                for a in register.rbac.assignments for s in a.scope
            ),
            redacted_fields=frozenset(f.lower() for f in register.data_controls.redaction.fields),
            group_members={g: frozenset(m) for g, m in register.rbac.groups.items()},
        )

    @classmethod
    def from_rows(cls, permissions: Iterable[tuple[str, str]], assignments: Iterable[tuple[str, str, str, str]],
                  redacted_fields: Iterable[str] = ()) -> RbacSpec:
        """From governance.rbac_role_permissions (role, permission) and governance.rbac_assignments rows.
        A role that has no permission row (a role with no permissions) appears only through assignments."""
        assignments = tuple(Assignment(*row) for row in assignments)
        roles: dict[str, set[str]] = {}
        for role, permission in permissions:
            roles.setdefault(role, set()).add(permission)
        for a in assignments:
            roles.setdefault(a.role, set())
        return cls({r: frozenset(p) for r, p in roles.items()}, assignments,
                   frozenset(f.lower() for f in redacted_fields))

    # -- per role -------------------------------------------------------------------------------------
    def scope(self, role: str) -> frozenset[str]:
        """The workflows of the role (union over its assignments); {'*'} when any assignment says '*'."""
        scopes = frozenset(a.scope for a in self.assignments if a.role == role)
        return frozenset({ALL_WORKFLOWS}) if ALL_WORKFLOWS in scopes else scopes

    def reads_marts(self, role: str) -> bool:
        return READ_PERMISSION in self.roles.get(role, frozenset())

    def reads_pii(self, role: str) -> bool:
        return PII_PERMISSION in self.roles.get(role, frozenset())

    def reader_roles(self) -> list[str]:
        """Roles that get governed views / grants (sorted)."""
        return sorted(r for r in self.roles if self.reads_marts(r))

    def groups_of(self, principal: str) -> list[str]:
        """The register's groups (rbac.groups) that list the principal as a member, sorted."""
        return sorted(g for g, members in self.group_members.items() if principal in members)

    def roles_of(self, principal: str, groups: Iterable[str] = ()) -> dict[str, frozenset[str]]:
        """role -> the principal's own scope in it (through the user, the register's groups listing it
        as a member, and the groups given - e.g. from an identity provider the register does not mirror)."""
        groups = {*groups, *self.groups_of(principal)}
        names = {("user", principal), *(("group", g) for g in groups), ("group", principal)}
        out: dict[str, set[str]] = {}
        for a in self.assignments:
            if (a.principal_type, a.principal) in names:
                out.setdefault(a.role, set()).add(a.scope)
        return {r: frozenset(s) for r, s in sorted(out.items())}

    def is_person_column(self, column: str) -> bool:
        c = column.lower()
        return c in PERSON_COLUMNS or c.endswith(PERSON_SUFFIXES) or c in self.redacted_fields

    def masked_columns(self, role: str, columns: Iterable[str]) -> list[str]:
        return [] if self.reads_pii(role) else [c for c in columns if self.is_person_column(c)]


def required_permissions(mart: str) -> tuple[str, ...]:
    """The permissions a role needs to read ``mart`` at all."""
    return (READ_PERMISSION, EXCEPTIONS_PERMISSION) if "exception" in mart else (READ_PERMISSION,)


def role_reads_mart(spec: RbacSpec, role: str, mart: str) -> bool:
    return all(p in spec.roles.get(role, frozenset()) for p in required_permissions(mart))


_SAFE_SUFFIX = re.compile(r"[^a-z0-9_]+")


def governed_schema(role: str) -> str:
    """The DuckDB schema of a role's views: governed_<role> (the role's exact name; quoted wherever used)."""
    return f"governed_{role}"


def safe_file_stem(role: str) -> str:
    """A file-name-safe form of a role name (for --per-role-files): lower case, runs of other characters -> '_'."""
    stem = _SAFE_SUFFIX.sub("_", role.lower()).strip("_")[:60] or "role"
    if stem == role:
        return stem
    return f"{stem}_{hashlib.sha256(role.encode()).hexdigest()[:8]}"  # two odd names never share a file
