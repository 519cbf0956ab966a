from django.apps import AppConfig


class TasksConfig(AppConfig):
    """What a task is and what can be done with it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "tasks"
