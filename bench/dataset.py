"""The `bench` application (Project, Task, Tag), made through the registry, filled by set-based SQL.

1,000 projects, 100,000 tasks, 50 tags and 2 to 4 (on average 3) tags per task. Values come from
arithmetic on the row number, not random(), so every run reads the same data.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from django.db import connection

from apps.identity.models import Permission
from models_registry import changes
from models_registry.models import Application

SLUG = "bench"
PROJECTS, TASKS, TAGS = 1_000, 100_000, 50


@dataclass(frozen=True)
class Names:
    """Tables and columns of the runtime models, for the hand-written floor statements."""

    project: str
    project_name: str
    task: str
    task_name: str
    done: str
    end_date: str
    priority: str
    task_project: str
    tag: str
    tag_name: str
    task_tags: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def create_schema() -> Names:
    # Rate limits out of the way: the buckets are still checked (one Redis call per request,
    # as in production), but no benchmark request is refused.
    unlimited = 2_000_000_000
    app = Application.objects.create(slug=SLUG, name="Bench", rate_limit_minute=unlimited,
                                     rate_limit_hour=unlimited, rate_limit_day=unlimited)
    project = changes.create_model(app, "Project")
    project_name = changes.add_property(project, "name", "text")
    task = changes.create_model(app, "Task")
    task_name = changes.add_property(task, "name", "text")
    done = changes.add_property(task, "done", "boolean")
    end_date = changes.add_property(task, "endDate", "date")
    priority = changes.add_property(task, "priority", "integer", min_value=1, max_value=5)
    tag = changes.create_model(app, "Tag")
    tag_name = changes.add_property(tag, "name", "text")
    belongs = changes.add_relation(task, "project", project, "tasks")
    tagged = changes.add_relation(task, "tags", tag, "tasks", kind="has_and_belongs_to_many")
    for data_model in (project, task, tag):  # anyone may, as the floor lets anyone
        for operation in ("read", "create", "update"):
            Permission.objects.create(data_model=data_model, operation=operation,
                                      access="public")
    return Names(
        project=project.table_name, project_name=project_name.attname,
        task=task.table_name, task_name=task_name.attname, done=done.attname,
        end_date=end_date.attname, priority=priority.attname, task_project=belongs.attname,
        tag=tag.table_name, tag_name=tag_name.attname, task_tags=f"mortar_j{tagged.pk}",
    )


# Rows from a number series n = 1..count: PostgreSQL's generate_series, SQLite's recursive CTE.
SERIES = {
    "postgresql": "SELECT n FROM generate_series(1, {count}) AS n",
    "sqlite": "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) "
              "SELECT n FROM s",
}
NOW = {"postgresql": "now()", "sqlite": "datetime('now')"}
END_DATE = {
    "postgresql": "date '2024-01-01' + (n % 365)",
    "sqlite": "date('2024-01-01', '+' || (n % 365) || ' days')",
}


def fill(names: Names) -> dict:
    """Insert the rows and ANALYZE; returns the row counts and the seconds it took."""
    vendor, started = connection.vendor, time.perf_counter()
    now, n = NOW[vendor], names

    def series(count: int) -> str:
        return SERIES[vendor].format(count=count)

    statements = [
        f"INSERT INTO {n.project} (created_at, updated_at, {n.project_name}) "
        f"SELECT {now}, {now}, 'Project ' || n FROM ({series(PROJECTS)}) AS s",
        f"INSERT INTO {n.tag} (created_at, updated_at, {n.tag_name}) "
        f"SELECT {now}, {now}, 'tag-' || n FROM ({series(TAGS)}) AS s",
        # Task n: project 1 + (n * 7) % 1000, priority 1 + (n * 3) % 5, done every third.
        f"INSERT INTO {n.task} (created_at, updated_at, {n.task_name}, {n.done}, {n.end_date}, "
        f"{n.priority}, {n.task_project}) "
        f"SELECT {now}, {now}, 'Task ' || n, (n % 3 = 0), {END_DATE[vendor]}, "
        f"1 + (n * 3) % 5, (SELECT min(id) FROM {n.project}) + (n * 7) % {PROJECTS} "
        f"FROM ({series(TASKS)}) AS s",
        # Task t gets 2 + t % 3 tags; the offsets 0, 13, 26, 39 are distinct modulo 50.
        f"INSERT INTO {n.task_tags} (a_id, b_id) "
        f"SELECT t.id, (SELECT min(id) FROM {n.tag}) + (t.id * 7 + (k.n - 1) * 13) % {TAGS} "
        f"FROM {n.task} AS t JOIN ({series(4)}) AS k ON k.n <= 2 + t.id % 3",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        # VACUUM too on PostgreSQL: sets hint bits now, and autovacuum has no reason to start
        # in the middle of a measurement.
        analyze = "VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE"
        for table in (n.project, n.tag, n.task, n.task_tags):
            cursor.execute(f"{analyze} {table}")
        cursor.execute(f"SELECT count(*) FROM {n.task_tags}")
        links = cursor.fetchone()[0]
    return {"projects": PROJECTS, "tasks": TASKS, "tags": TAGS, "task_tags": links,
            "seconds": round(time.perf_counter() - started, 2)}
