"""A task's columns, JSON and create defaults, read from the task model and `TaskSerializer`.

The benchmark's baseline and its seeder build their SQL from this at start, so that a plain new
task field needs no edit in either. Needs Django's settings in the environment.
"""

import os

import django


class TaskShape:
    """What a task's row and JSON are, read once at start. Django is used here only: the
    baseline's requests are served by psycopg and orjson alone.

    A field is its model column, shown as the database returns it (orjson writes dates, times,
    numbers, strings and null as DRF does; a foreign key is its id) or, for a field with
    choices, by the name its serializer field gives each stored value; `tags` come from their
    own query. Anything else stops the benchmark at start, rather than answer other bytes.
    """

    def __init__(self):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
        django.setup()
        from django.db.models import DateTimeField
        from django.utils import timezone

        from tasks.models import Task
        from tasks.serializers import TaskSerializer

        columns_by_source = {}
        for model_field in Task._meta.concrete_fields:
            columns_by_source[model_field.name] = columns_by_source[model_field.attname] = model_field
        self.columns, self.shown = [], []  # shown: (name, index in the row or None for tags, names of values)
        for name, field in TaskSerializer().fields.items():
            if field.write_only:
                continue
            if field.source == "tag_names":
                self.shown.append((name, None, None))
                continue
            model_field = columns_by_source.get(field.source)
            if model_field is None:
                raise SystemExit(f"bench/task_shape.py: the task field {name!r} is not a column; teach TaskShape it")
            names = {value: field.to_representation(value) for value, _ in model_field.choices or ()} or None
            self.shown.append((name, len(self.columns), names))
            self.columns.append(model_field.column)
        # What a create writes besides the caller, title, description and priority: each column's
        # model default, as a function of the write's moment (the timestamps are that moment). The
        # seeder writes these too for the columns it does not vary.
        self.defaults = {}
        for model_field in Task._meta.concrete_fields:
            if model_field.primary_key or model_field.name in ("owner", "title", "description", "priority"):
                continue
            default = model_field.default
            if isinstance(model_field, DateTimeField) and default is timezone.now:
                self.defaults[model_field.column] = lambda now: now
            elif model_field.has_default() and callable(default):
                self.defaults[model_field.column] = lambda now, default=default: default()
            elif model_field.has_default() or model_field.null:
                value = default if model_field.has_default() else None
                self.defaults[model_field.column] = lambda now, value=value: value
            else:
                raise SystemExit(f"bench/task_shape.py: a create needs a value for {model_field.name!r}")
        self.priorities = {label: value for value, label in self.names_of("priority").items()}

    def names_of(self, name: str) -> dict:
        return next(names for shown, _, names in self.shown if shown == name)

    def json(self, row: tuple, tags: list[str]) -> dict:
        return {
            name: sorted(tags, key=str.casefold)
            if index is None
            else (names[row[index]] if names and row[index] is not None else row[index])
            for name, index, names in self.shown
        }
