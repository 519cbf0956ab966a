from django.apps import AppConfig
from django.core.management import call_command
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

from core.db import use_fast_timestamps


def create_cache_table(using: str = "default", **kwargs) -> None:
    """Creates the database cache's table (throttle counters without Redis); a no-op when it exists."""
    call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    """The project-wide pieces: errors, rendering, parsing, pagination, throttling, database hooks."""

    name = "core"

    def ready(self):
        from core import checks  # noqa: F401 (registers the deploy checks)

        # After every migrate, so a fresh clone (and the test database) needs no extra step.
        post_migrate.connect(create_cache_table, sender=self)
        connection_created.connect(use_fast_timestamps)
