from django.apps import AppConfig


class TasksConfig(AppConfig):
    """What a task is and what can be done with it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "tasks"

    def ready(self):
        from django.db.backends.signals import connection_created

        from tasks.filters import register_sqlite_functions

        connection_created.connect(register_sqlite_functions)
