from django.apps import AppConfig


class RestApiConfig(AppConfig):
    name = "apps.rest_api"
    label = "rest_api"
    verbose_name = "REST endpoints"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from models_registry.definitions import register_section

        from . import routes  # noqa: F401  (its signal receivers)
        from .admin import show_rest_endpoints_in_application_admin
        from .definitions import SECTION

        register_section(SECTION)
        # Every admin module has registered (the admin's own ready) and identity's ready has
        # extended the application admin (INSTALLED_APPS order): this extends that class.
        show_rest_endpoints_in_application_admin()
