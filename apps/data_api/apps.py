from django.apps import AppConfig


class DataApiConfig(AppConfig):
    name = "apps.data_api"
    label = "data_api"
    verbose_name = "Data API"

    def ready(self):
        from . import cors  # noqa: F401  (connects the per-application CORS receiver)
