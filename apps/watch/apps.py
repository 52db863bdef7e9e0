from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "apps.watch"
    label = "watch"
    verbose_name = "Change feed"

    def ready(self) -> None:
        from models_registry.events import events_committed

        from .wakeups import announce

        events_committed.connect(announce, dispatch_uid="apps.watch.announce")
