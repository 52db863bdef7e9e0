"""Runtime model classes: Django models built from an application's metadata.

Each build gets its own `django.apps.registry.Apps`, so runtime classes never enter Django's
global app registry: relations between them resolve inside the build, and a stale build is
freed whole when the last reference to it goes. Builds are cached per application and schema
version; a process notices another process's schema change by the version on the application
row (see `application_rows` for how a request knows its row is current). Each build computes
its models' specs once (`specs`: properties and relation ends by user name).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from django.apps.registry import Apps
from django.conf import settings
from django.db import connection, models
from django.db.migrations.state import AppConfigStub
from django.db.models.functions import Coalesce

from .application_rows import forget_application_rows
from .kinds import KINDS
from .lru import LruCache
from .models import Application, DataModel, Relation
from .specs import ModelSpec, RelationEnd, relation_attname

ON_DELETE = {
    Relation.OnDelete.NULLIFY: models.SET_NULL,
    Relation.OnDelete.CASCADE: models.CASCADE,
    Relation.OnDelete.RESTRICT: models.PROTECT,
}


class RuntimeRecord(models.Model):
    """Base of every runtime class."""

    _mortar: ModelSpec  # set on each built class

    class Meta:
        abstract = True
        app_label = "models_registry"

    def __str__(self) -> str:
        for prop in self._mortar.properties.values():
            if KINDS[prop.kind].searchable:
                value = getattr(self, prop.attname)
                if value:
                    return str(value)[:80]
        return f"{self._mortar.name} #{self.pk}"

    def save(self, *args, **kwargs):
        numbered = [
            p.attname for p in self._mortar.properties.values() if KINDS[p.kind].numbered
        ]
        if self._state.adding and numbered:
            for attname in numbered:
                if getattr(self, attname) is None:
                    highest = type(self).objects.aggregate(top=Coalesce(models.Max(attname), 0))
                    setattr(self, attname, highest["top"] + 1)
        super().save(*args, **kwargs)


@dataclass
class RuntimeModels:
    """The runtime classes of one application at one schema version."""

    application_id: int
    version: int
    apps: Apps
    by_name: dict[str, type[RuntimeRecord]]
    by_id: dict[int, type[RuntimeRecord]]

    def __getitem__(self, name: str) -> type[RuntimeRecord]:
        return self.by_name[name]

    @property
    def label(self) -> str:
        return runtime_label(self.application_id)

    def link_class(self, relation_id: int) -> type[models.Model]:
        """The link-table class of a has-and-belongs-to-many relation."""
        return self.apps.get_model(self.label, f"J{relation_id}")

    def link_classes(self) -> list[type[models.Model]]:
        return [cls for cls in self.apps.get_models() if not issubclass(cls, RuntimeRecord)]


def runtime_label(application_id: int) -> str:
    return f"mortar_app{application_id}"


def build_runtime_models(application: Application) -> RuntimeModels:
    """Build (never from cache) the classes of `application` from the metadata in the database."""
    for _ in range(5):
        version = _version_of(application.pk)
        data_models = list(
            DataModel.objects.filter(application_id=application.pk).prefetch_related("properties")
        )
        relations = list(Relation.objects.filter(application_id=application.pk))
        if _version_of(application.pk) == version:  # no schema change landed meanwhile
            return build_from_metadata(application.pk, version, data_models, relations)
    raise RuntimeError("the schema keeps changing; try again")


def _version_of(application_id: int) -> int:
    return Application.objects.values_list("schema_version", flat=True).get(pk=application_id)


def build_from_metadata(
    application_id: int,
    version: int,
    data_models: list[DataModel],
    relations: list[Relation],
) -> RuntimeModels:
    label = runtime_label(application_id)
    # One app config so that reverse relations are found (Options walks the registry's configs).
    registry = Apps([AppConfigStub(label)])
    specs = {dm.pk: ModelSpec(dm, {p.name: p for p in dm.properties.all()}) for dm in data_models}
    attrs_of = {dm.pk: _base_attrs(dm, specs[dm.pk], registry, label) for dm in data_models}

    for relation in relations:
        source, target = specs[relation.source_id], specs[relation.target_id]
        source.ends[relation.source_field] = RelationEnd(relation, "source", target)
        target.ends[relation.target_field] = RelationEnd(relation, "target", source)
        target_ref = f"{label}.T{relation.target_id}"
        if relation.kind == Relation.Kind.BELONGS_TO:
            attrs_of[relation.source_id][relation.attname] = models.ForeignKey(
                target_ref,
                on_delete=ON_DELETE[relation.on_delete],
                null=True,
                blank=True,
                db_column=relation.attname,
                related_name=relation_attname(relation, "target"),
                verbose_name=relation.source_field,
            )
        else:
            _build_link_class(relation, registry, label)
            attrs_of[relation.source_id][f"m{relation.pk}"] = models.ManyToManyField(
                target_ref,
                through=f"{label}.J{relation.pk}",
                through_fields=("a", "b"),
                related_name=relation_attname(relation, "target"),
                blank=True,
                verbose_name=relation.source_field,
            )

    by_id = {
        dm.pk: type(f"T{dm.pk}", (RuntimeRecord,), attrs_of[dm.pk]) for dm in data_models
    }
    for model_id, cls in by_id.items():
        specs[model_id].model_class = cls
    if registry._pending_operations:  # a relation points at a model that was not built
        raise RuntimeError(f"unresolved runtime relations: {list(registry._pending_operations)}")
    return RuntimeModels(
        application_id=application_id,
        version=version,
        apps=registry,
        by_name={cls._mortar.name: cls for cls in by_id.values()},
        by_id=by_id,
    )


class LiveRecords(models.Manager):
    """A model with a trash: `objects` are the records not in it (`_base_manager`, which
    deletions and relations use, sees all)."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


def trash_rules(dm: DataModel, spec: ModelSpec) -> dict:
    """What a trash adds to the Meta of a model: its unique rules hold among the records not
    in it (a record in the trash neither blocks a value nor is seen by checks), and a partial
    index of the trash alone: the few records in it are found (listed, counted, purged)
    without reading the others, and writing the others costs no index more."""
    table = dm.table_name
    live = models.Q(deleted_at__isnull=True)
    return {
        "constraints": [models.UniqueConstraint(fields=[prop.attname], condition=live,
                                                name=f"{table}_{prop.attname}_live")
                        for prop in spec.properties.values() if prop.unique],
        # IS NOT NULL as the queries say it (SQLite uses a partial index only for the very
        # condition; Django writes ~Q(isnull=True) as NOT (... IS NULL))
        "indexes": [models.Index(fields=["deleted_at"],
                                 condition=models.Q(deleted_at__isnull=False),
                                 name=f"{table}_trash")],
    }


def _base_attrs(dm: DataModel, spec: ModelSpec, registry: Apps, label: str) -> dict:
    meta = type(
        "Meta",
        (),
        {
            "apps": registry,
            "app_label": label,
            "db_table": dm.table_name,
            "verbose_name": dm.name,
            "verbose_name_plural": dm.name,
            "ordering": ["id"],
            **(trash_rules(dm, spec) if dm.trash else {}),
        },
    )
    attrs = {
        "__module__": __name__,
        "Meta": meta,
        "_mortar": spec,
        "id": models.AutoField(primary_key=True),
        "created_at": models.DateTimeField(auto_now_add=True, verbose_name="createdAt"),
        "updated_at": models.DateTimeField(auto_now=True, verbose_name="updatedAt"),
    }
    for prop in spec.properties.values():
        attrs[prop.attname] = KINDS[prop.kind].model_field(prop, False if dm.trash else None)
    if dm.trash:
        attrs["deleted_at"] = models.DateTimeField(null=True, blank=True,
                                                   verbose_name="deletedAt")
        attrs["objects"] = LiveRecords()
    return attrs


def _build_link_class(relation: Relation, registry: Apps, label: str) -> None:
    meta = type(
        "Meta",
        (),
        {
            "apps": registry,
            "app_label": label,
            "db_table": f"mortar_j{relation.pk}",
            "constraints": [
                models.UniqueConstraint(fields=["a", "b"], name=f"mortar_j{relation.pk}_uniq")
            ],
        },
    )
    type(
        f"J{relation.pk}",
        (models.Model,),
        {
            "__module__": __name__,
            "Meta": meta,
            "a": models.ForeignKey(
                f"{label}.T{relation.source_id}", models.CASCADE, db_column="a_id", related_name="+"
            ),
            "b": models.ForeignKey(
                f"{label}.T{relation.target_id}", models.CASCADE, db_column="b_id", related_name="+"
            ),
        },
    )


_cache: LruCache[RuntimeModels] = LruCache(lambda: settings.MORTAR_RUNTIME_CACHE_SIZE,
                                       "runtime models")


def runtime_models(application: Application) -> RuntimeModels:
    """The classes of `application` at the schema version of the row given, built once per
    version (the LRU keeps MORTAR_RUNTIME_CACHE_SIZE applications' builds)."""

    def build() -> RuntimeModels:
        global _schema_generation
        _schema_generation += 1
        return build_runtime_models(application)

    cached = _cache.get_or_make(application.pk, build,
                                fresh=lambda found: found.version == application.schema_version)
    _forget_stale_prepared_statements()
    return cached


_schema_generation = 0  # bumped whenever this process meets a new schema version
_generation_seen: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per connection


def _forget_stale_prepared_statements() -> None:
    """Drop this connection's prepared statements once after a schema change.

    PostgreSQL keeps a connection's prepared statements across schema changes made by other
    connections, and refuses one whose columns changed type ("cached plan must not change
    result type"). `DEALLOCATE ALL` empties them (psycopg forgets its own list as it sees it
    run); a connection that has not met a schema change since it last did so skips this.
    """
    if connection.vendor != "postgresql" or connection.connection is None:
        return
    raw = connection.connection
    seen = _generation_seen.get(raw)
    if seen == _schema_generation:
        return
    if seen is not None:  # a new connection has nothing prepared yet
        with connection.cursor() as cursor:
            # A text new to this connection each time: psycopg looks at a statement's outcome
            # (and forgets its own list on DEALLOCATE ALL) only the first time it meets a text.
            cursor.execute(f"DEALLOCATE ALL /* schema generation {_schema_generation} */")
    _generation_seen[raw] = _schema_generation


def forget_runtime_models() -> None:
    """Drop every cached build (tests, and after bulk definition loads)."""
    _cache.clear()
    forget_application_rows()
