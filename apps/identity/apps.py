from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "apps.identity"
    label = "identity"
    verbose_name = "Identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from models_registry.definitions import register_section

        from . import access  # noqa: F401  (its signal receivers)
        from .admin import show_permissions_in_registry_admins
        from .definitions import PERMISSIONS, SECTION

        register_section(SECTION)
        register_section(PERMISSIONS)
        show_permissions_in_registry_admins()  # the admin's own ready has run: all registered
