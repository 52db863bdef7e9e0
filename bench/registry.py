"""Figures for the registry: adding properties to a big table, building 200 models, memory over
many schema changes, and the per-request freshness check."""

import statistics
import time

from django.db import connection

from models_registry import changes
from models_registry.application_rows import current_application
from models_registry.models import Application, DataModel, Property
from models_registry.runtime import build_runtime_models, runtime_models


def run_all(quick: bool = False) -> dict:
    results = {}
    results["add_property_to_big_table"] = add_property_to_big_table(
        10_000 if quick else 1_000_000)
    results["build_200_models"] = build_many_models(200)
    results["rss_over_schema_changes"] = rss_over_schema_changes(100 if quick else 1000)
    results["freshness_check"] = freshness_check(2_000 if quick else 20_000)
    return results


def _say(label: str, value: str) -> None:
    print(f"  {label:<58} {value}", flush=True)


def add_property_to_big_table(rows: int) -> dict:
    print(f"\nAdding properties to a model with {rows:,} rows")
    app = Application.objects.create(slug="bench-big", name="Big")
    item = changes.create_model(app, "Item")
    name = changes.add_property(item, "name", "text")
    table = connection.ops.quote_name(item.table_name)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (created_at, updated_at, p{name.pk}) "
                f"SELECT now(), now(), 'item ' || n FROM generate_series(1, %s) AS n", [rows])
            cursor.execute(f"ANALYZE {table}")
        else:
            cursor.execute(
                f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
                f"INSERT INTO {table} (created_at, updated_at, p{name.pk}) "
                f"SELECT datetime('now'), datetime('now'), 'item ' || i FROM n", [rows])
    figures = {"rows": rows}
    started = time.perf_counter()
    changes.add_property(item, "note", "text")
    figures["nullable_seconds"] = time.perf_counter() - started
    _say("add a nullable property", f"{figures['nullable_seconds'] * 1000:.0f} ms")
    started = time.perf_counter()
    changes.add_property(item, "done", "boolean", required=True, default=False)
    figures["required_with_default_seconds"] = time.perf_counter() - started
    _say("add a required property with a default",
         f"{figures['required_with_default_seconds'] * 1000:.0f} ms")
    changes.delete_application(app)
    return figures


def build_many_models(count: int) -> dict:
    """Metadata rows and tables for `count` models of 8 properties, then time the build."""
    print(f"\nBuilding the runtime models of an application with {count} models")
    app = Application.objects.create(slug="bench-wide", name="Wide")
    kinds = ["text", "integer", "decimal", "boolean", "date", "datetime", "email", "json"]
    data_models = DataModel.objects.bulk_create(
        DataModel(application=app, name=f"Model{i}") for i in range(count))
    Property.objects.bulk_create(
        Property(data_model=dm, name=f"field{j}", kind=kind, position=j)
        for dm in data_models for j, kind in enumerate(kinds))
    times = []
    for _ in range(7):
        started = time.perf_counter()
        built = build_runtime_models(app)
        times.append(time.perf_counter() - started)
    assert len(built.by_id) == count
    figures = {"models": count, "properties_each": len(kinds),
               "median_seconds": statistics.median(times), "min_seconds": min(times)}
    _say(f"build {count} models x {len(kinds)} properties (median of 7)",
         f"{figures['median_seconds'] * 1000:.0f} ms (min {figures['min_seconds'] * 1000:.0f})")
    Application.objects.filter(pk=app.pk).delete()  # no tables were made
    return figures


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    import resource

    return pages * resource.getpagesize() / 2**20


def rss_over_schema_changes(count: int) -> dict:
    """Alternately add and delete a property, and serve a 'request' after each change."""
    print(f"\nMemory over {count} schema changes (each followed by a request's model lookup)")
    import gc

    app = Application.objects.create(slug="bench-churn", name="Churn")
    task = changes.create_model(app, "Task")
    changes.add_property(task, "name", "text")
    project = changes.create_model(app, "Project")
    changes.add_relation(task, "project", project, "tasks")
    changes.add_relation(task, "tags", project, "tagged", kind="has_and_belongs_to_many")
    figures = {}
    extra = None
    started = time.perf_counter()
    for n in range(1, count + 1):
        if extra is None:
            extra = changes.add_property(task, "extra", "integer")
        else:
            changes.delete_property(extra)
            extra = None
        runtime_models(current_application(app.slug))
        if n in (10, count):
            gc.collect()
            figures[f"rss_mib_after_{n}"] = round(_rss_mib(), 1)
            _say(f"RSS after {n} schema changes", f"{figures[f'rss_mib_after_{n}']} MiB")
    figures["seconds_per_change"] = (time.perf_counter() - started) / count
    _say("time per schema change (DDL + rebuild)", f"{figures['seconds_per_change'] * 1000:.1f} ms")
    changes.delete_application(app)
    return figures


def _percentiles(prefix: str, samples: list[float]) -> dict:
    samples = sorted(samples)
    return {
        f"{prefix}p50_us": round(samples[len(samples) // 2] * 1e6, 1),
        f"{prefix}p99_us": round(samples[int(len(samples) * 0.99)] * 1e6, 1),
    }


def freshness_check(count: int) -> dict:
    """What every request pays to know its runtime models are current (the cache is warm)."""
    print(f"\nPer-request freshness check ({count:,} calls, warm cache)")
    app = Application.objects.create(slug="bench-fresh", name="Fresh")
    changes.create_model(app, "Task")
    runtime_models(current_application(app.slug))
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        runtime_models(current_application(app.slug))
        samples.append(time.perf_counter() - started)
    floor = []
    table = Application._meta.db_table
    with connection.cursor() as cursor:
        for _ in range(count):
            started = time.perf_counter()
            cursor.execute(f"SELECT schema_version FROM {table} WHERE slug = %s", [app.slug])
            cursor.fetchone()
            floor.append(time.perf_counter() - started)
    figures = {"queries": 1, **_percentiles("", samples), **_percentiles("raw_select_", floor)}
    _say("application row (plain cursor) + cache lookup",
         f"p50 {figures['p50_us']:.0f} µs, p99 {figures['p99_us']:.0f} µs")
    _say("floor: the same SELECT on a raw cursor",
         f"p50 {figures['raw_select_p50_us']:.0f} µs, p99 {figures['raw_select_p99_us']:.0f} µs")
    changes.delete_application(app)
    return figures
