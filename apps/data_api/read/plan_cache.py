"""Plans kept per shape of request, so that a warm read plans nothing.

A top-level field's plan depends on the document, the application's row as this process read
it (its version, settings and permissions: a permission change changes the row; the key holds
the row's fingerprint, which the plan's freshness check compares), the caller, and the
variables' values. Most values only travel as bound parameters: those become slots.
A slot is a variable of type Int, Float or Boolean (or a number literal of the document, hoisted
into one) that the operation uses only inside `where` arguments, where the filter compiler binds
a value as it is (`FilterCompiler._prep`) and the text never depends on it (null aside, so a
null value is no slot). Every other variable, and a
hoisted literal anywhere else (a page's `limit`, a cursor), is part of the key: the page checks
and everything else that reads such a value ran when the plan was made, for the same value.

Whether the slots really are bound as they are is checked when the plan is made: it is made a
second time with other values in the slots, and kept only if its text is the same and every
parameter that changed is the value of exactly one slot. File URLs are signed with the time,
so plans that sign them are not kept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLField
from graphql.language import FieldNode

from models_registry.lru import LruCache

from ..sql.text import Sql
from .planner import Planner, TopLevelPlan

KEPT = 512  # plans per schema version of an application
SLOT_TYPES = frozenset({"Int", "Float", "Boolean"})
STATEMENTS = ("sql", "count_sql", "other_sql")
_SIMPLE = (str, int, float, bool, type(None), decimal.Decimal, dt.date, dt.time, dt.datetime)


@dataclass(frozen=True)
class Shape:
    """What a request's plans are kept under, and the values of its slots."""

    key: tuple
    slots: dict[str, Any]


def request_shape(operation: object, slot_names: frozenset[str], variables: dict,
                  fingerprint: str, principal) -> Shape | None:
    """The request's shape; None when a variable's value cannot be part of a key.
    `fingerprint`: the application row's, as the request's freshness check compares it."""
    slots = {name: variables[name] for name in slot_names
             if type(variables.get(name)) in (int, float, bool)}
    try:
        fixed = _frozen({name: value for name, value in variables.items() if name not in slots})
    except TypeError:
        return None
    return Shape((id(operation), fingerprint, principal, fixed, frozenset(slots)), slots)


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a coerced value, its type kept (True and 1 are equal keys)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((key, _frozen(item)) for key, item in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(_frozen(item) for item in value))
    if isinstance(value, _SIMPLE):
        return (type(value).__name__, value)
    raise TypeError(f"no key for {type(value).__name__}")


@dataclass(frozen=True)
class KeptPlan:
    node: FieldNode  # the plan's field, compared by identity (the key holds its id)
    plan: TopLevelPlan | None  # None: this shape's plans are not kept
    forbidden: tuple = ()
    positions: dict[str, tuple[tuple[int, str], ...]] = dataclasses.field(default_factory=dict)

    def bind(self, slots: dict[str, Any]) -> TopLevelPlan:
        """The kept plan with this request's slot values in their parameters."""
        bound = {}
        for name, places in self.positions.items():
            sql = getattr(self.plan, name)
            params = list(sql.params)
            for index, slot in places:
                params[index] = slots[slot]
            bound[name] = Sql(sql.text, params)
        return dataclasses.replace(self.plan, **bound) if bound else self.plan


class PlanCache:
    def __init__(self):
        self.kept: LruCache[KeptPlan] = LruCache(KEPT, "plans")

    def plan(self, shape: Shape | None, make_planner: Callable[[dict | None], Planner],
             action: str, model: str, field_def: GraphQLField, nodes: list[FieldNode]
             ) -> tuple[TopLevelPlan, list]:
        """(the field's plan, the relation fields it leaves empty for lack of permission).
        `make_planner(variables)`: a planner for the request, or for other variables."""
        if shape is None:
            return _plan(make_planner(None), action, model, field_def, nodes)
        key = (shape.key, id(nodes[0]))
        kept = self.kept.get(key)
        if kept is not None and kept.node is nodes[0]:
            if kept.plan is not None:
                return kept.bind(shape.slots), list(kept.forbidden)
            return _plan(make_planner(None), action, model, field_def, nodes)
        planner = make_planner(None)
        plan, forbidden = _plan(planner, action, model, field_def, nodes)
        self.kept.put(key, _keep(shape, make_planner, planner, plan, forbidden, action, model,
                                 field_def, nodes))
        return plan, forbidden


def _plan(planner: Planner, action, model, field_def, nodes) -> tuple[TopLevelPlan, list]:
    return planner.plan(action, model, field_def, nodes), planner.forbidden


def _keep(shape: Shape, make_planner, planner: Planner, plan: TopLevelPlan, forbidden: list,
          action, model, field_def, nodes) -> KeptPlan:
    not_kept = KeptPlan(nodes[0], None)
    if planner.signs_urls:
        return not_kept
    if not shape.slots:
        return KeptPlan(nodes[0], plan, tuple(forbidden))
    other = {name: _other_value(value, index)
             for index, (name, value) in enumerate(sorted(shape.slots.items()))}
    try:
        second, second_forbidden = _plan(make_planner(other), action, model, field_def, nodes)
    except Exception:  # noqa: BLE001 (another value refused: its plans depend on values)
        return not_kept
    if second_forbidden != forbidden or not _same_but_statements(plan, second):
        return not_kept
    positions = {}
    for name in STATEMENTS:
        first, again = getattr(plan, name), getattr(second, name)
        if (first is None) != (again is None):
            return not_kept
        if first is None:
            continue
        places = _slot_places(first, again, shape.slots, other)
        if places is None:
            return not_kept
        if places:
            positions[name] = places
    return KeptPlan(nodes[0], plan, tuple(forbidden), positions)


def _other_value(value: Any, index: int) -> Any:
    """A value of the same type, different from `value` and from the other slots' others."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        step = 1_000_003 + index
        return value + step if value < 1_000_000_000 else value - step
    return value + 0.5 + index


def _same_but_statements(first: TopLevelPlan, second: TopLevelPlan) -> bool:
    rest = [f.name for f in dataclasses.fields(TopLevelPlan) if f.name not in STATEMENTS]
    return all(getattr(first, name) == getattr(second, name) for name in rest)


def _slot_places(first: Sql, again: Sql, slots: dict, other: dict
                 ) -> tuple[tuple[int, str], ...] | None:
    """Where each slot's value stands among the parameters; None when the texts differ or a
    parameter changed that is not exactly one slot's value."""
    if first.text != again.text or len(first.params) != len(again.params):
        return None
    places = []
    for index, (a, b) in enumerate(zip(first.params, again.params, strict=True)):
        if type(a) is type(b) and a == b:
            continue
        names = [name for name in slots if type(a) is type(slots[name])
                 and a == slots[name] and b == other[name]]
        if len(names) != 1:
            return None
        places.append((index, names[0]))
    return tuple(places)
