"""Meta-models: what app builders define. Runtime tables and classes are derived from these rows.

Tables and columns are named by ids (`mortar_t<model id>`, `p<property id>`, `r<relation id>`), so
renaming a model, property or relation changes these rows only, never the database schema.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from .kinds import KIND_CHOICES


class Application(models.Model):
    class Environment(models.TextChoices):
        PRODUCTION = "production"
        SANDBOX = "sandbox"

    slug = models.SlugField(
        max_length=50,
        unique=True,
        validators=[RegexValidator(r"^[a-z][a-z0-9-]*$", "Use lowercase letters, digits and -.")],
        help_text="Part of the API URL: /api/<slug>/graphql.",
    )
    name = models.CharField(max_length=200)
    environment = models.CharField(
        max_length=20, choices=Environment.choices, default=Environment.PRODUCTION
    )
    # Bumped in the same transaction as every schema change; processes compare it per request.
    schema_version = models.PositiveBigIntegerField(default=1, editable=False)

    # Limits of the data API (DESIGN.md "Request limits").
    default_page_size = models.PositiveIntegerField(default=50)
    max_page_size = models.PositiveIntegerField(default=200)
    max_top_level_fields = models.PositiveIntegerField(default=10)
    max_depth = models.PositiveIntegerField(
        default=4, help_text="Records nested in records: allTask → project → tasks is depth 3."
    )
    statement_timeout_ms = models.PositiveIntegerField(default=5000)
    max_body_bytes = models.PositiveIntegerField(default=1024 * 1024)
    max_mutation_items = models.PositiveIntegerField(
        default=1000, help_text="Items one createMany/upsertMany/deleteMany may carry."
    )
    # Requests the data API admits per bucket (DESIGN.md "Rate limiting"); sandboxes get half.
    rate_limit_minute = models.PositiveIntegerField(
        default=200, help_text="Requests per minute, taken first.")
    rate_limit_hour = models.PositiveIntegerField(
        default=2600, help_text="Requests per hour, taken when the minute's are used up.")
    rate_limit_day = models.PositiveIntegerField(
        default=1150, help_text="Requests per day, taken when the hour's are used up too.")
    # None until the first save, where the environment decides (see save).
    introspection_enabled = models.BooleanField(
        default=None, help_text="Answer introspection queries (GraphiQL needs them) and suggest "
        "names in error messages (\"Did you mean …\"). A new application starts with it on in a "
        "sandbox, off in production.")
    playground_enabled = models.BooleanField(
        default=False, help_text="Serve GraphiQL to browsers at the API URL."
    )
    cors_allowed_origins = models.TextField(
        blank=True,
        help_text="Browser origins allowed to call the API, one per line "
        "(e.g. https://app.example.com).",
    )
    event_retention_hours = models.PositiveIntegerField(
        default=24, validators=[MinValueValidator(1)],
        help_text="How long change events are kept for watchers: one reconnecting after a gap "
        "longer than this is told to reload (event: reset). Events are pruned past this or "
        "the audit log's retention, whichever is longer.")
    webhook_private_targets = models.BooleanField(
        default=False, help_text="Let webhooks call loopback and private network addresses "
        "(off: only public ones, so that a webhook cannot reach services behind the server).")
    trash_hours = models.PositiveIntegerField(
        default=72, validators=[MinValueValidator(1)],
        help_text="How long deleted records of models with a trash can be restored before "
        "they are purged for good.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def save(self, *args, **kwargs):
        if self.introspection_enabled is None:  # new: production keeps its schema to itself
            self.introspection_enabled = self.environment == self.Environment.SANDBOX
        super().save(*args, **kwargs)

    def clean(self):
        if self.default_page_size > self.max_page_size:
            raise ValidationError({"default_page_size": "The default page cannot be larger "
                                   f"than the maximum page ({self.max_page_size})."})
        for name in ("max_page_size", "max_top_level_fields", "max_depth",
                     "statement_timeout_ms", "max_body_bytes", "max_mutation_items"):
            if getattr(self, name) < 1:
                raise ValidationError({name: "Must be at least 1."})

    @property
    def allowed_origins(self) -> set[str]:
        return {line.strip().rstrip("/") for line in self.cors_allowed_origins.splitlines()
                if line.strip()}


class DataModel(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="data_models"
    )
    name = models.CharField(max_length=63, help_text="PascalCase, e.g. Task or WebUser.")
    trash = models.BooleanField(
        default=False, help_text="Deletions move records to a trash they can be restored from "
        "(until the application's trash period ends); off: deletions are final.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["application", "name"]
        verbose_name = "data model"
        constraints = [
            models.UniqueConstraint(fields=["application", "name"], name="datamodel_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.application.slug}.{self.name}" if self.application_id else self.name

    @property
    def table_name(self) -> str:
        return f"mortar_t{self.pk}"


class Property(models.Model):
    data_model = models.ForeignKey(DataModel, on_delete=models.CASCADE, related_name="properties")
    name = models.CharField(max_length=63, help_text="camelCase, e.g. endDate.")
    kind = models.CharField(max_length=20, choices=KIND_CHOICES, default="text")
    required = models.BooleanField(default=False)
    unique = models.BooleanField(default=False)
    default = models.JSONField(
        null=True, blank=True, help_text='A JSON value, e.g. "open", 3, true or "2024-01-31".'
    )
    # Validations; which apply depends on the kind.
    min_value = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    max_value = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    min_length = models.PositiveIntegerField(null=True, blank=True)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    pattern = models.CharField(
        max_length=500, blank=True, help_text="A regular expression values must match."
    )
    enum_values = models.JSONField(
        default=list, blank=True, help_text='Options of an enum, e.g. ["low", "high"].'
    )
    decimal_places = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Decimals only; 2 when empty."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["data_model", "position", "id"]
        verbose_name_plural = "properties"
        constraints = [
            models.UniqueConstraint(fields=["data_model", "name"], name="property_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.data_model.name}.{self.name}" if self.data_model_id else self.name

    @property
    def attname(self) -> str:
        """Attribute and column name on the runtime model."""
        return f"p{self.pk}"


class Relation(models.Model):
    """A relation between two models of one application.

    `belongs_to`: each `source` record points at one `target` record (`Task.project`); the
    target sees the inverse has-many field (`Project.tasks`). `has_and_belongs_to_many`: a link
    table between source and target (`WebUser.roles` / `Role.webUsers`).
    """

    class Kind(models.TextChoices):
        BELONGS_TO = "belongs_to", "belongs to (inverse: has many)"
        HABTM = "has_and_belongs_to_many", "has and belongs to many"

    class OnDelete(models.TextChoices):
        NULLIFY = "nullify", "nullify the reference"
        CASCADE = "cascade", "delete the referring records"
        RESTRICT = "restrict", "refuse while referred to"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.BELONGS_TO)
    source = models.ForeignKey(DataModel, on_delete=models.CASCADE, related_name="relations_out")
    source_field = models.CharField(max_length=63, help_text="Field on this model, e.g. project.")
    target = models.ForeignKey(DataModel, on_delete=models.PROTECT, related_name="relations_in")
    target_field = models.CharField(
        max_length=63, help_text="Field on the related model, e.g. tasks."
    )
    on_delete = models.CharField(
        max_length=20,
        choices=OnDelete.choices,
        default=OnDelete.NULLIFY,
        help_text="What happens to records of this model when the related record is deleted.",
    )

    class Meta:
        ordering = ["application", "id"]

    def __str__(self) -> str:
        if not (self.source_id and self.target_id):
            return self.source_field
        return f"{self.source.name}.{self.source_field} → {self.target.name}.{self.target_field}"

    @property
    def attname(self) -> str:
        return f"r{self.pk}"


class ChangeEvent(models.Model):
    """One committed change of one record: the transactional outbox (`events` writes it in the
    transaction of the change, so an event exists if and only if the change committed).

    `seq` numbers an application's events 1, 2, 3 … without gaps, in commit order (see
    `events.ChangeBatch.flush`); the feed reads them by it.
    """

    class Operation(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"

    # The references are Django's, not the database's (db_constraint=False): deleting an
    # application or a model goes through Django, which cascades or nullifies, and a foreign
    # key constraint would check every event again at commit (PostgreSQL's deferred checks:
    # about half again the INSERT's time for 10,000 events, measured).
    id = models.BigAutoField(primary_key=True)
    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="change_events", db_index=False,
                                    db_constraint=False)
    seq = models.BigIntegerField()
    # The model as it is now (null once it is dropped), and its name when the change was made.
    data_model = models.ForeignKey(DataModel, on_delete=models.SET_NULL, null=True,
                                   related_name="change_events", db_constraint=False,
                                   db_index=False)  # indexed with record_id (Meta)
    model = models.CharField(max_length=63)
    record_id = models.BigIntegerField()
    operation = models.CharField(max_length=6, choices=Operation.choices)
    # The API names of the fields the change set ([] for a delete).
    fields = models.JSONField(default=list)
    # Who: {"kind": "user", "profile": <auth profile uuid>, "id": <user record id>},
    # {"kind": "server", "key": "mk_<prefix>"}, {"kind": "anonymous"},
    # {"kind": "admin", "id", "username"}, {"kind": "loader"}.
    actor = models.JSONField()
    # From where: the client's address (REMOTE_ADDR) and user agent; none for the loader.
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="", db_default="")
    created_at = models.DateTimeField()
    # The values the change left (`snapshots`): a create's all, an update's of the fields it
    # set (null when none is kept: a habtm list, a password), a delete's none.
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["application", "seq"]
        verbose_name = "record change"
        constraints = [
            # also the index the feed reads by (application, seq > n)
            models.UniqueConstraint(fields=["application", "seq"], name="changeevent_seq"),
        ]
        # a record's history (the record browser, /ops/audit?model=…&record=…)
        indexes = [models.Index(fields=["data_model", "record_id"], name="changeevent_record")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.operation} {self.model} {self.record_id}"


class EventSequence(models.Model):
    """The last `ChangeEvent.seq` taken per application; its row is locked from the moment a
    write takes its numbers until that write commits."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, primary_key=True,
                                       related_name="event_sequence")
    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.application_id}: {self.last}"
