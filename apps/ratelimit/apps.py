from django.apps import AppConfig


class RatelimitConfig(AppConfig):
    name = "apps.ratelimit"
    label = "ratelimit"
    verbose_name = "Rate limiting"

    def ready(self):
        from models_registry.definitions import register_section

        from . import checks  # noqa: F401  (registers the settings check)
        from .definitions import SECTION

        register_section(SECTION)
