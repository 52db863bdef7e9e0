from django.apps import AppConfig


class DataApiConfig(AppConfig):
    name = "apps.data_api"
    label = "data_api"
    verbose_name = "Data API"

    def ready(self):
        from models_registry.names import GeneratedNames, register_generated_names

        from . import (
            cors,  # noqa: F401  (connects the per-application CORS receiver)
            metrics,  # noqa: F401  (registers the caches' scrape-time collector)
        )
        from .schema.build import (
            MODEL_TYPE_SUFFIXES,
            RECORD_FIELD_NAMES,
            ROOT_FIELD_PREFIXES,
            fixed_type_names,
        )
        from .sql import dialects  # noqa: F401  (adds SQLite's functions to its connections)

        # Model names that would clash with the schema's own names are refused when defined.
        register_generated_names(GeneratedNames(frozenset(fixed_type_names()),
                                                MODEL_TYPE_SUFFIXES[1:], ROOT_FIELD_PREFIXES,
                                                frozenset(RECORD_FIELD_NAMES)))
