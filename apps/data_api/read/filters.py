"""`where` arguments to SQL conditions. Values are always bound parameters; every value is
checked by its property kind first, so a wrong value is a BAD_USER_INPUT naming its field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection

from apps.identity.access import Access, CurrentUser
from models_registry.runtime import RuntimeModels, RuntimeRecord
from models_registry.specs import SYSTEM_COLUMNS

from ..errors import BadUserInput
from ..kinds import readable_properties
from ..sql.dialects import Dialect
from ..sql.text import Aliases, Sql, q
from .joins import related_rows

ORDER = {"gt": ">", "gteq": ">=", "gte": ">=", "lt": "<", "lteq": "<=", "lte": "<="}
TRUE, FALSE = Sql("1 = 1"), Sql("1 = 0")
# "$currentUser" where it cannot be the caller (ids of another model than his profile's users):
# equal to no value, so `eq` matches nothing and `neq` everything
NOBODY = object()


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class FilterCompiler:
    def __init__(self, built: RuntimeModels, dialect: Dialect, aliases: Aliases,
                 access: Access | None = None):
        """`access`: the caller's permissions; filters through a relation see only the
        related records he may read (None: unrestricted)."""
        self.built = built
        self.dialect = dialect
        self.aliases = aliases
        self.access = access

    def permitted(self, cls: type[RuntimeRecord], alias: str, operation: str = "read",
                  trashed: str | None = None) -> Sql:
        """The condition on records of `cls` that the caller may `operation` (FALSE when he
        may none), among those not in the model's trash (`trashed`: ONLY those in it, or WITH
        them). Permission conditions are the builder's: compiled without permissions."""
        allowed = self.allowed(cls, alias, operation)
        if not cls._mortar.data_model.trash or trashed == "WITH":
            return allowed
        in_trash = Sql(f"{alias}.deleted_at IS {'NOT ' if trashed == 'ONLY' else ''}NULL")
        return in_trash if allowed is TRUE else in_trash + " AND " + allowed

    def allowed(self, cls: type[RuntimeRecord], alias: str, operation: str = "read") -> Sql:
        """`permitted` without the trash: the permission's condition alone (TRUE: none)."""
        if self.access is None or self.access.unrestricted:
            return TRUE
        model_id = cls._mortar.data_model.pk
        if not self.access.allows(model_id, operation):
            return FALSE
        condition = self.access.condition(model_id, operation)
        if condition is None:
            return TRUE
        trusted = FilterCompiler(self.built, self.dialect, self.aliases)
        return trusted.condition(cls, alias, condition, path="permission")

    def condition(self, cls: type[RuntimeRecord], alias: str, where: dict | None,
                  path: str = "where") -> Sql:
        """The SQL condition for `where` on records of `cls` in table alias `alias`."""
        if not where:
            return TRUE
        ends = cls._mortar.ends
        parts = []
        for key, value in where.items():
            place = f"{path}.{key}"
            if key in ("_and", "_or"):
                if value is None:
                    continue
                inner = [self.condition(cls, alias, item, f"{place}[{i}]")
                         for i, item in enumerate(value)]
                if not inner:
                    parts.append(TRUE if key == "_and" else FALSE)
                else:
                    joiner = " AND " if key == "_and" else " OR "
                    parts.append("(" + Sql.join(joiner, inner) + ")")
            elif key in ends:
                if value is None:
                    continue
                end = ends[key]
                target_cls = end.target.model_class
                inner_alias, rows = related_rows(end, alias, self.aliases)
                inner = (self.condition(target_cls, inner_alias, value, place) + " AND "
                         + self.permitted(target_cls, inner_alias))
                parts.append("EXISTS (SELECT 1 " + rows + " AND " + inner + ")")
            else:
                parts.append(self._field(cls, alias, key, value or {}, place))
        return "(" + Sql.join(" AND ", parts) + ")" if parts else TRUE

    def _field(self, cls, alias: str, name: str, ops: dict, place: str) -> Sql:
        spec = cls._mortar
        if name in SYSTEM_COLUMNS:
            attname = SYSTEM_COLUMNS[name]
        elif name in readable_properties(spec):
            attname = spec.properties[name].attname
        else:  # the schema only offers known fields; kept as a guard
            raise BadUserInput(f"{place}: {spec.name} has no field {name!r}.", field=place)
        field = cls._meta.get_field(attname)
        column = f"{alias}.{q(field.column)}"
        parts = [self._operator(field, column, op, _compared(value, spec.pk, name),
                                f"{place}.{op}") for op, value in ops.items()]
        parts = [p for p in parts if p is not None]
        return Sql.join(" AND ", parts) if parts else TRUE

    def _operator(self, field, column: str, op: str, value: Any, place: str) -> Sql | None:
        if value is NOBODY:
            return TRUE if op == "neq" else FALSE
        if isinstance(value, list) and NOBODY in value:
            value = [v for v in value if v is not NOBODY]
        if op in ("exists", "does_not_exist"):
            if value is None:
                return None
            present = value if op == "exists" else not value
            return Sql(f"{column} IS {'NOT ' if present else ''}NULL")
        if op == "eq":
            if value is None:
                return Sql(f"{column} IS NULL")
            return Sql(f"{column} = %s", [self._prep(field, value, place)])
        if op == "neq":
            if value is None:
                return Sql(f"{column} IS NOT NULL")
            return Sql(f"({column} <> %s OR {column} IS NULL)", [self._prep(field, value, place)])
        if value is None:
            raise BadUserInput(f"{place} needs a value (null is only meaningful for eq and neq).",
                               field=place)
        if op in ("in", "nin"):
            if not value:
                return FALSE if op == "in" else TRUE
            params = [self._prep(field, v, place) for v in value]
            marks = ", ".join(["%s"] * len(params))
            if op == "in":
                return Sql(f"{column} IN ({marks})", params)
            return Sql(f"({column} NOT IN ({marks}) OR {column} IS NULL)", params)
        if op in ORDER:
            return Sql(f"{column} {ORDER[op]} %s", [self._prep(field, value, place)])
        if op == "matches":
            return self.dialect.matches(column) + Sql("", [f"%{escape_like(value)}%"])
        if op == "does_not_match":
            return ("(" + self.dialect.matches(column, negate=True)
                    + Sql(f" OR {column} IS NULL)", [f"%{escape_like(value)}%"]))
        if op == "starts_with":
            return self.dialect.matches(column) + Sql("", [f"{escape_like(value)}%"])
        if op == "ends_with":
            return self.dialect.matches(column) + Sql("", [f"%{escape_like(value)}"])
        if op == "regex":
            refused = self.dialect.regex_error(value)
            if refused is not None:
                raise BadUserInput(f"{place}: not a valid regular expression ({refused}).",
                                   field=place)
            return self.dialect.regex(column) + Sql("", [value])
        raise BadUserInput(f"{place}: unknown operator {op!r}.", field=place)

    @staticmethod
    def _prep(field, value: Any, place: str) -> Any:
        try:
            return field.get_db_prep_value(field.to_python(value), connection, prepared=False)
        except (ValidationError, ValueError, TypeError) as error:
            raise BadUserInput(f"{place}: {value!r} is not a valid value here.",
                               field=place) from error


def _compared(value: Any, model_id: int, field: str) -> Any:
    """A value of a permission condition as compared with `field` of `model_id`'s records."""
    if isinstance(value, CurrentUser):
        found = value.as_value(model_id, field)
        return NOBODY if found is None else found
    if isinstance(value, list):
        return [_compared(v, model_id, field) for v in value]
    return value
