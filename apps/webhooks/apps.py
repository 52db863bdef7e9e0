from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


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
        from .dispatcher import forget_hooked_applications, wake
        from .models import Webhook

        register_section(SECTION)
        events_committed.connect(wake, dispatch_uid="webhooks.wake")
        for changed in (post_save, post_delete):
            changed.connect(forget_hooked_applications, sender=Webhook,
                            dispatch_uid=f"webhooks.forget_hooked.{changed}")
        # after rest_api's ready (INSTALLED_APPS order): extends the class it registered
        show_webhooks_in_application_admin()
