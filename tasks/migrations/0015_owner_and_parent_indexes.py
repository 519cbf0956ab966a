"""No index of their own on the owner and parent columns, and task_parent_position only where a
task has a parent: every insert, and every update that moves a row, wrote four index entries
more (tasks.models.owner_field).

Only the indexes are dropped: Django's AlterField would also drop and add the foreign keys
again, and adding one checks every row under a lock that stops writes.
"""

from django.conf import settings
from django.db import migrations, models

# The models' own (field) indexes this removes: (model, field).
FIELDS = [("tag", "owner"), ("task", "owner"), ("task", "parent"), ("tasklist", "owner")]


def drop_field_indexes(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for model_name, field_name in FIELDS:
            model = apps.get_model("tasks", model_name)
            table, column = model._meta.db_table, model._meta.get_field(field_name).column
            for name, about in connection.introspection.get_constraints(cursor, table).items():
                # The column's own index, and on PostgreSQL its twin for LIKE: nothing else is an
                # index of that one column alone.
                if about["index"] and about["columns"] == [column] and not (about["unique"] or about["primary_key"]):
                    schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_field_indexes(apps, schema_editor):
    for model_name, field_name in FIELDS:
        model = apps.get_model("tasks", model_name)
        for statement in schema_editor._field_indexes_sql(model, model._meta.get_field(field_name)):
            schema_editor.execute(statement)


def owner(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_column="user_id",
        db_index=False,
        on_delete=models.CASCADE,
        related_name=related_name,
        to=settings.AUTH_USER_MODEL,
        to_field="better_auth_id",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0014_stored_counts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_field_indexes, create_field_indexes)],
            state_operations=[
                migrations.AlterField(model_name="tag", name="owner", field=owner("tags")),
                migrations.AlterField(model_name="task", name="owner", field=owner("tasks")),
                migrations.AlterField(
                    model_name="task",
                    name="parent",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.CASCADE,
                        related_name="subtasks",
                        to="tasks.task",
                    ),
                ),
                migrations.AlterField(model_name="tasklist", name="owner", field=owner("lists")),
            ],
        ),
        migrations.RemoveIndex(model_name="task", name="task_parent_position"),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(parent__isnull=False),
                fields=["parent", "position", "id"],
                name="task_parent_position",
            ),
        ),
    ]
