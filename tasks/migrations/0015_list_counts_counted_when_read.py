from django.db import migrations


class Migration(migrations.Migration):
    """A list's counts are counted when it is read (tasks.queries.lists_with_counts) from now on.

    The columns leave the models only: the release before this one, serving beside it while it
    rolls out, still writes them, and this one's inserts leave them to their database default.
    A later release drops them (docs/deployment.md).
    """

    dependencies = [
        ("tasks", "0014_stored_counts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="tasklist", name="open_count"),
                migrations.RemoveField(model_name="tasklist", name="task_count"),
            ],
        ),
    ]
