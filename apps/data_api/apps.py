from django.apps import AppConfig


class DataApiConfig(AppConfig):
    name = "apps.data_api"
    label = "data_api"
    verbose_name = "Data API"
