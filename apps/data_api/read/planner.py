"""Plan each top-level field of a read into one SQL statement that builds its JSON in the database.

The selection set decides the columns, the joins (correlated subqueries) and the JSON shape;
`where`, `sort` and pages become conditions, ORDER BY and LIMIT with bound parameters (a
cursor: a condition on the sort keys, see `cursors`). No model instance is made and
graphql-core's executor does not walk the result: the database's JSON text is spliced into the
response as it is. `node`/`nodes` take one statement per model their ids
name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, get_named_type
from graphql.execution.collect_fields import collect_sub_fields
from graphql.execution.values import get_argument_values
from graphql.language import FieldNode

from apps.identity.access import Access
from models_registry.files import UrlSigner
from models_registry.kinds import KINDS
from models_registry.models import Application
from models_registry.runtime import RuntimeModels, RuntimeRecord
from models_registry.specs import DELETED_AT, SYSTEM_COLUMNS, RelationEnd

from ..errors import BadUserInput, Forbidden, read_refusal
from ..kinds import Read, api_kind, readable_properties
from ..sql.dialects import dialect
from ..sql.global_ids import GLOBAL_ID_FIELD, MalformedGlobalId, global_id_sql, parse_global_id
from ..sql.text import Aliases, Sql, name_literal, q, text_param
from . import cursors
from .cursors import CursorCodec, SortKey, reversed_keys
from .filters import TRUE, FilterCompiler
from .joins import related_rows
from .pages import Page, page_of

# The members of `edges` and `pageInfo` that are cursors.
CURSOR_MEMBERS = ("cursor", "startCursor", "endCursor")


@dataclass
class TopLevelPlan:
    """The statement of one top-level field and how to turn its rows into the field's JSON.

    A result set's row holds, by `columns`: the JSON text of its record for each `results`
    key and each edge's `node` key (keyed by their response keys' path), the values of its
    sort keys ("cursor", for `codec`), then the count ("count") and whether records lie on the
    far side of the cursor ("other") — the same in every row."""

    shape: str  # "all", "one", "count"
    sql: Sql
    keys: list[tuple[str, str]]  # (response key, field name) of a result set's members
    type_name: str
    page: Page | None = None
    columns: dict[tuple[str, ...] | str, int] = field(default_factory=dict)
    members: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # edges, pageInfo
    peek: bool = False  # one row more than the page is read, to tell whether more follow
    codec: CursorCodec | None = None
    count_sql: Sql | None = None  # to run alone when the page has no rows to carry the count
    other_sql: Sql | None = None  # the same for "other"


@dataclass
class NodesPlan:
    """The statements of a `node` or `nodes` field: one per model its ids name, each giving
    (id, JSON text, freshness) rows of the records the caller may read. `asked` holds
    (model, id) for each id asked, in order; None where the id names no model (any more)."""

    asked: list[tuple[str, int] | None]
    statements: dict[str, Sql]  # by model name


class Planner:
    def __init__(self, built: RuntimeModels, schema: GraphQLSchema, fragments: dict,
                 variables: dict, application: Application, extra_column: Sql | None = None,
                 access: Access | None = None):
        """`extra_column` is selected last in every top-level statement (the freshness check).
        `access`: the caller's permissions, applied in the SQL (None: unrestricted)."""
        self.built = built
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.application = application
        self.extra = Sql("") if extra_column is None else ", " + extra_column
        self.dialect = dialect()
        self.aliases = Aliases()
        self.filters = FilterCompiler(built, self.dialect, self.aliases, access)
        self.access = access
        self.file_urls = UrlSigner.now(application.slug)
        self.signs_urls = False  # a plan that signs file URLs holds the time: not kept
        self.path: list[str] = []  # response keys from the top-level field to where we are
        # (path, why) of each relation field left empty: the caller may not read its model
        self.forbidden: list[tuple[list[str], str]] = []

    # -- top level -------------------------------------------------------------------------

    def plan(self, action: str, model: str, field_def: GraphQLField,
             nodes: list[FieldNode]) -> TopLevelPlan:
        """The plan of a top-level `allX` (`action` "all") or `oneX` ("one") field."""
        args = get_argument_values(field_def, nodes[0], self.variables)
        cls = self.built.by_name[model]
        if action == "one":
            return self._plan_one(cls, args, nodes)
        return self._plan_all(cls, args, nodes, get_named_type(field_def.type))

    def _plan_one(self, cls, args: dict, nodes: list[FieldNode]) -> TopLevelPlan:
        self._require_read(cls)
        alias = self.aliases.next()
        record = self.record_json(cls, alias, self._sub_fields(cls, nodes))
        where = (self.filters.condition(cls, alias, args.get("where")) + " AND "
                 + self.filters.permitted(cls, alias))
        sql = ("SELECT " + self.dialect.as_text(record) + self.extra
               + f" FROM {q(self._table(cls))} {alias}"
               + " WHERE " + where + f" ORDER BY {alias}.id LIMIT 1")
        return TopLevelPlan("one", sql, [], cls._mortar.name)

    def _plan_all(self, cls, args: dict, nodes, result_set: GraphQLObjectType) -> TopLevelPlan:
        wrapper = collect_sub_fields(self.schema, self.fragments, self.variables, result_set,
                                     nodes)
        keys = [(key, key_nodes[0].name.value) for key, key_nodes in wrapper.items()]
        self._require_read(cls)
        if args.get("trashed"):
            self._require_trash(cls)
        count_alias, alias = self.aliases.next(), self.aliases.next()
        sort_keys = self.sort_keys(cls, alias, args.get("sort"))
        page = page_of(args, self.application, lambda: self.cursors(cls, sort_keys))
        table = q(self._table(cls))
        count_sql = self._count_sql(cls, count_alias, args)
        if all(name in ("totalCount", "__typename") for _, name in keys):
            return TopLevelPlan("count", "SELECT (" + count_sql + ")" + self.extra, keys,
                                result_set.name)
        plan = TopLevelPlan("all", Sql(""), keys, result_set.name, page)
        selected: list[Sql] = []
        for key, key_nodes in wrapper.items():
            name = key_nodes[0].name.value
            if name == "results":
                plan.columns[(key,)] = len(selected)
                selected.append(self._records_column(cls, alias, key_nodes, [key]))
            elif name in ("edges", "pageInfo"):
                member_type = get_named_type(result_set.fields[name].type)
                members = collect_sub_fields(self.schema, self.fragments, self.variables,
                                             member_type, key_nodes)
                plan.members[key] = [(k, n[0].name.value) for k, n in members.items()]
                for member, member_nodes in members.items():
                    if member_nodes[0].name.value == "node":
                        plan.columns[(key, member)] = len(selected)
                        selected.append(self._records_column(cls, alias, member_nodes,
                                                             [key, member]))
                plan.peek = plan.peek or name == "pageInfo"
        if any(name in CURSOR_MEMBERS for members in plan.members.values() for _, name in members):
            plan.codec = self.cursors(cls, sort_keys)
            plan.columns["cursor"] = len(selected)
            selected.append(self.dialect.values_array([key.value for key in sort_keys]))
        if any(name == "totalCount" for _, name in keys):
            plan.count_sql = count_sql
            plan.columns["count"] = len(selected)
            selected.append("(" + count_sql + ")")
        if plan.peek and (page.before if page.backward else page.after) is not None:
            plan.other_sql = self._beyond_cursor(cls, args, page)
            plan.columns["other"] = len(selected)
            selected.append("(" + plan.other_sql + ")")
        where = self._matching(cls, alias, args)
        if page.after is not None:
            where = where + " AND " + cursors.after(sort_keys, page.after)
        if page.before is not None:
            where = where + " AND " + cursors.after(reversed_keys(sort_keys), page.before)
        order = cursors.order_by(reversed_keys(sort_keys) if page.backward else sort_keys)
        # The page's rows are picked first (under the same alias, so that the columns' SQL
        # fits) and their JSON built after: PostgreSQL would otherwise build it for every row
        # it sorts or skips (a page of 100 after 90,000 rows by offset took 80 ms, 11 ms so).
        rows = (f"(SELECT * FROM {table} {alias} WHERE " + where + " ORDER BY " + order
                + Sql(" LIMIT %s OFFSET %s", [page.size + plan.peek, page.offset])
                + f") {alias}")
        plan.sql = ("SELECT " + Sql.join(", ", selected or [Sql("1")]) + self.extra
                    + " FROM " + rows + " ORDER BY " + order)
        return plan

    def _beyond_cursor(self, cls, args: dict, page: Page) -> Sql:
        """SELECT whether records that `where` matches and the caller may read lie on the far
        side of the page's cursor: at or before `after`, or at or after `before` when paging
        backward (pageInfo's hasPreviousPage, hasNextPage)."""
        alias = self.aliases.next()
        keys = self.sort_keys(cls, alias, args.get("sort"))
        side = (cursors.after(keys, page.before, inclusive=True) if page.backward
                else cursors.after(reversed_keys(keys), page.after, inclusive=True))
        return (f"SELECT EXISTS(SELECT 1 FROM {q(self._table(cls))} {alias} WHERE "
                + self._matching(cls, alias, args) + " AND " + side + ")")

    def _count_sql(self, cls, alias: str, args: dict) -> Sql:
        """SELECT how many records `where` matches that the caller may read. Of a model with a
        trash (when `trashed` does not ask for it), on PostgreSQL and for a whole table:
        those matched less those of them in the trash, found through its index. Testing every
        row for the trash made PostgreSQL's count of 100,000 a third slower (it reads a row's
        columns up to the one it tests, and deleted_at is the last), and SQLite counts a whole
        table without reading a row only when nothing is tested; SQLite otherwise tests each
        row faster than it looks the trash's up (measured: bench/trash.py)."""
        table = q(self._table(cls))
        trashed = args.get("trashed")
        if not cls._mortar.data_model.trash or trashed:
            return (f"SELECT count(*) FROM {table} {alias} WHERE "
                    + self._matching(cls, alias, args))
        where = self.filters.condition(cls, alias, args.get("where"))
        allowed = self.filters.allowed(cls, alias)
        every = None if where is TRUE and allowed is TRUE else where + " AND " + allowed
        if every is not None and connection.vendor != "postgresql":
            return (f"SELECT count(*) FROM {table} {alias} WHERE " + every
                    + f" AND {alias}.deleted_at IS NULL")
        other = self.aliases.next()
        in_trash = (Sql(f"{other}.deleted_at IS NOT NULL") if every is None else
                    f"{other}.deleted_at IS NOT NULL AND "
                    + self.filters.condition(cls, other, args.get("where")) + " AND "
                    + self.filters.allowed(cls, other))
        return (Sql(f"SELECT (SELECT count(*) FROM {table} {alias}")
                + ("" if every is None else " WHERE " + every)
                + f") - (SELECT count(*) FROM {table} {other} WHERE " + in_trash + ")")

    def _matching(self, cls, alias: str, args: dict) -> Sql:
        """The records of `cls` (in table `alias`) that `where` matches and the caller may
        read (of those in the trash, or not, as `trashed` says: then those he may delete)."""
        matched = (self.filters.condition(cls, alias, args.get("where")) + " AND "
                   + self.filters.permitted(cls, alias, trashed=args.get("trashed")))
        if args.get("trashed"):  # the trash: of the records the caller may delete as well
            matched = matched + " AND " + self.filters.allowed(cls, alias, "delete")
        return matched

    def _records_column(self, cls, alias: str, nodes: list[FieldNode], path: list[str]) -> Sql:
        """A column of each record's JSON text for the selection of `nodes`, at `path` (response
        keys) under the top-level field."""
        self.path.extend(path)
        record = self.record_json(cls, alias, self._sub_fields(cls, nodes))
        del self.path[-len(path):]
        return self.dialect.as_text(record)

    def cursors(self, cls, keys: list[SortKey]) -> CursorCodec:
        name = cls._mortar.name
        return CursorCodec(self.application.slug, name, f"all{name}", keys,
                           self.dialect.exact_numbers)

    def records_by_id(self, cls, nodes: list[FieldNode], ids: list[int]) -> Sql:
        """(id, JSON text) of the records of `cls` with these ids that the caller may read,
        for a mutation's result."""
        return self._records_by_id(cls, nodes, ids, Sql(""))

    def _records_by_id(self, cls, nodes: list[FieldNode], ids: list[int], extra: Sql) -> Sql:
        alias = self.aliases.next()
        record = self.record_json(cls, alias, self._sub_fields(cls, nodes))
        return (f"SELECT {alias}.id, " + self.dialect.as_text(record) + extra
                + f" FROM {q(self._table(cls))} {alias} WHERE {alias}.id IN ("
                + self.dialect.id_list(ids) + ") AND " + self.filters.permitted(cls, alias))

    # -- node and nodes --------------------------------------------------------------------

    def plan_nodes(self, action: str, field_def: GraphQLField,
                   nodes: list[FieldNode]) -> NodesPlan:
        """The plan of a top-level `node` (`action` "node") or `nodes` field. The records the
        caller may not read are left out by the statements' conditions, as those that do not
        exist are: the answer cannot tell the two apart (not even a model he may read none
        of is refused, as `oneX` would be)."""
        args = get_argument_values(field_def, nodes[0], self.variables)
        given = [args["id"]] if action == "node" else args["ids"]
        most = self.application.max_page_size
        if len(given) > most:
            raise BadUserInput(f"nodes takes at most {most} ids (got {len(given)}), as many as "
                               "a page of allX; ask for the others in another request.",
                               field="ids")
        asked = [self._node_key(value, "id" if action == "node" else f"ids[{index}]")
                 for index, value in enumerate(given)]
        positions: dict[str, list[int]] = {}
        for index, key in enumerate(asked):
            if key is not None:
                positions.setdefault(key[0], []).append(index)
        statements = {}
        for model, indexes in positions.items():
            ids = list(dict.fromkeys(asked[index][1] for index in indexes))
            before = len(self.forbidden)
            statements[model] = self._records_by_id(self.built.by_name[model], nodes, ids,
                                                    self.extra)
            if action == "nodes":  # a relation left empty: so at each place of this model
                left_empty = self.forbidden[before:]
                self.forbidden[before:] = [([index, *path], why) for index in indexes
                                           for path, why in left_empty]
        return NodesPlan(asked, statements)

    def _node_key(self, value: str, place: str) -> tuple[str, int] | None:
        """(model, id) of a global id the client sent; None when its model is gone (deleted,
        or renamed: ids name models by name), as a record that is gone is."""
        try:
            found = parse_global_id(value)
        except MalformedGlobalId as error:
            raise BadUserInput(f"{place}: {error} Global ids are the values of nodeId.",
                               field=place) from error
        slug = self.application.slug
        if found.app != slug:
            raise BadUserInput(f"{place}: {value!r} is a global id of the application "
                               f"{found.app!r}, not of {slug!r}.", field=place)
        cls = self.built.by_name.get(found.model)
        if cls is None or not self._is_node(cls):
            return None
        return found.model, found.id

    def _is_node(self, cls) -> bool:
        """Whether records of `cls` have global ids (all but those of a model with a field
        named nodeId from before the name was reserved)."""
        return any(i.name == "Node" for i in self.schema.get_type(cls._mortar.name).interfaces)

    def _require_trash(self, cls) -> None:
        """The trash is seen by those who may delete: who could have put records there."""
        spec = cls._mortar
        if self.access is not None and not self.access.allows(spec.pk, "delete"):
            raise Forbidden(f"trashed: the trash of {spec.name} is seen by those who may "
                            f"delete {spec.name} records, and you may not.", field="trashed")

    def _require_read(self, cls) -> None:
        spec = cls._mortar
        if self.access is not None and not self.access.allows(spec.pk, "read"):
            raise Forbidden(read_refusal(self.access, spec.name, spec.pk))

    # -- records ---------------------------------------------------------------------------

    def _sub_fields(self, cls, nodes: list[FieldNode]) -> dict[str, list[FieldNode]]:
        object_type = self.schema.get_type(cls._mortar.name)
        return collect_sub_fields(self.schema, self.fragments, self.variables, object_type, nodes)

    def _table(self, cls) -> str:
        return cls._meta.db_table

    def record_json(self, cls: type[RuntimeRecord], alias: str,
                    fields: dict[str, list[FieldNode]]) -> Sql:
        """A JSON object with one member per response key of the selection."""
        spec = cls._mortar
        properties = readable_properties(spec)
        object_type = self.schema.get_type(spec.name)
        pairs = []
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                value = name_literal(spec.name)
            elif name in SYSTEM_COLUMNS:
                column = f"{alias}.{SYSTEM_COLUMNS[name]}"
                value = Sql(column) if name == "id" else self.dialect.datetime(column)
            elif name == DELETED_AT and spec.data_model.trash:
                value = self.dialect.datetime(f"{alias}.deleted_at")
            elif name in properties:
                value = self.property_json(properties[name], alias, nodes)
            elif name == GLOBAL_ID_FIELD and name not in spec.ends:
                value = global_id_sql(self.dialect, self.application.slug, spec.name,
                                      f"{alias}.id")
            else:
                self.path.append(key)
                value = self.relation_json(spec.ends[name], alias, object_type.fields[name],
                                           nodes)
                self.path.pop()
            pairs.append((key, value))
        return self.dialect.json_object(pairs)

    def property_json(self, prop, alias: str, nodes: list[FieldNode]) -> Sql:
        column = f"{alias}.{q(prop.attname)}"
        read = api_kind(prop).read
        if read is Read.DECIMAL:
            return self.dialect.decimal(column, KINDS[prop.kind].places(prop))
        if read is Read.BOOLEAN:
            return self.dialect.boolean(column)
        if read is Read.DATETIME:
            return self.dialect.datetime(column)
        if read is Read.JSON:
            return self.dialect.json_column(column)
        if read is Read.FILE:
            return self.file_json(column, nodes)
        return Sql(column)

    def file_json(self, column: str, nodes: list[FieldNode]) -> Sql:
        file_type = self.schema.get_type("File")
        fields = collect_sub_fields(self.schema, self.fragments, self.variables, file_type, nodes)
        pairs = []
        for key, key_nodes in fields.items():
            name = key_nodes[0].name.value
            if name == "__typename":
                pairs.append((key, name_literal("File")))
            elif name == "url":
                pairs.append((key, self.file_url(column)))
            elif name == "size":
                pairs.append((key, self.dialect.json_field(column, "size")))
            else:
                pairs.append((key, self.dialect.json_text_field(column, name)))
        return (f"CASE WHEN {column} IS NULL THEN NULL ELSE "
                + self.dialect.json_object(pairs) + " END")

    def file_url(self, column: str) -> Sql:
        """The file's URL, signed in the database as `UrlSigner.url` signs it."""
        signer, concat = self.file_urls, self.dialect.concat
        self.signs_urls = True
        key = self.dialect.json_text_field(column, "key")
        url = concat(concat(text_param(signer.prefix), key), text_param(signer.query))
        return concat(url, self.dialect.hmac_sha256(signer.key, key))

    def relation_json(self, end: RelationEnd, alias: str, field_def,
                      nodes: list[FieldNode]) -> Sql:
        target = end.target.model_class
        if self.access is not None and not self.access.allows(end.target.pk, "read"):
            refusal = read_refusal(self.access, end.target.name, end.target.pk)
            self.forbidden.append((list(self.path), refusal))  # a FORBIDDEN at this path
            return self.dialect.empty_list() if end.many else Sql("NULL")
        inner, rows = related_rows(end, alias, self.aliases)
        record = self.record_json(target, inner, self._sub_fields(target, nodes))
        rows = rows + " AND " + self.filters.permitted(target, inner)
        if not end.many:
            return self.dialect.nested("(SELECT " + record + " " + rows + ")")
        args = get_argument_values(field_def, nodes[0], self.variables)
        sort_keys = self.sort_keys(target, inner, args.get("sort"))
        page = page_of(args, self.application, lambda: self.cursors(target, sort_keys))
        rows = rows + " AND " + self.filters.condition(target, inner, args.get("where"))
        if page.after is not None:
            rows = rows + " AND " + cursors.after(sort_keys, page.after)
        limit = Sql(" LIMIT %s OFFSET %s", [page.size, page.offset])
        return self.dialect.nested(self.dialect.list_of(record, rows,
                                                        cursors.order_by(sort_keys), limit))

    # -- arguments -------------------------------------------------------------------------

    def sort_keys(self, cls, alias: str, sort: list[dict] | None) -> list[SortKey]:
        """The keys of `sort`, with id as the final tiebreaker so that pages are stable and
        cursors name one position (unless the sort already orders by id)."""
        spec = cls._mortar
        keys: list[SortKey] = []
        by_id = False
        for index, item in enumerate(sort or []):
            place = f"sort[{index}]"
            if bool(item.get("field")) == bool(item.get("relation")):
                raise BadUserInput(
                    f"{place}: give either field (sort: {{field: id, order: DESC}}) or "
                    "relation (sort: {relation: {project: {name: ASC}}}).", field=place)
            if item.get("field"):
                name = item["field"]
                keys.append(SortKey(self._column(cls, alias, name),
                                    (item.get("order") or "ASC") == "ASC",
                                    self._sort_label(spec, name), name not in SYSTEM_COLUMNS))
                by_id = by_id or name == "id"
                continue
            for relation_name, fields in item["relation"].items():
                if not fields:
                    continue
                end = spec.ends[relation_name]
                target = end.target.model_class
                for field_name, direction in fields.items():
                    inner, rows = related_rows(end, alias, self.aliases)
                    # only readable related records give their values to the order
                    rows = rows + " AND " + self.filters.permitted(target, inner)
                    value = "(SELECT " + self._column(target, inner, field_name) + " " + rows + ")"
                    label = f"{relation_name}." + self._sort_label(end.target, field_name)
                    keys.append(SortKey(value, (direction or "ASC") == "ASC", label))
        if not by_id:
            keys.append(SortKey(Sql(f"{alias}.id"), True, "id", nullable=False))
        return keys

    @staticmethod
    def _sort_label(spec, name: str) -> str:
        """How a cursor names a sort field: with its kind, so that a cursor made before the
        property changed kind is refused rather than compared with values of another type."""
        return name if name in SYSTEM_COLUMNS else f"{name}:{spec.properties[name].kind}"

    def _column(self, cls, alias: str, name: str) -> Sql:
        if name in SYSTEM_COLUMNS:
            return Sql(f"{alias}.{SYSTEM_COLUMNS[name]}")
        return Sql(f"{alias}.{q(cls._mortar.properties[name].attname)}")
