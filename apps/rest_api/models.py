"""A saved endpoint: one GraphQL operation served at a URL of its application's REST API."""

from django.core.validators import RegexValidator
from django.db import models

from models_registry.models import Application

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class RestEndpoint(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="rest_endpoints")
    name = models.CharField(
        max_length=100,
        validators=[RegexValidator(r"^[A-Za-z][A-Za-z0-9_-]*$",
                                   "Use letters, digits, _ and -, starting with a letter.")],
        help_text="How the endpoint is called in definition files and the OpenAPI document.")
    url = models.CharField(
        "URL template", max_length=300,
        help_text="After /api/<app>/rest/: literal segments match as written, :name segments "
                  "pass their text as the variable $name (tasks/:id).")
    methods = models.JSONField(
        default=list, blank=True,
        help_text="None ticked: GET and POST for a query, POST for a mutation.")
    query = models.TextField(
        "GraphQL document",
        help_text="One query or mutation; its variables come from the URL, the query string "
                  "and the JSON body.")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["application", "url", "name"]
        verbose_name = "REST endpoint"
        constraints = [models.UniqueConstraint(fields=["application", "name"],
                                               name="rest_endpoint_name_unique_per_app")]

    def __str__(self) -> str:
        return self.name
