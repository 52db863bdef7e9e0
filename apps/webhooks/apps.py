from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from models_registry.definitions import register_section
        from models_registry.events import events_committed

        from . import metrics  # noqa: F401  (registers the scrape-time collector)
        from .admin import show_webhooks_in_application_admin
        from .definitions import SECTION
        from .dispatcher import wake

        register_section(SECTION)
        events_committed.connect(wake, dispatch_uid="webhooks.wake")
        # after rest_api's ready (INSTALLED_APPS order): extends the class it registered
        show_webhooks_in_application_admin()
