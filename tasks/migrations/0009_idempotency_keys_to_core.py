from django.db import migrations


def copy_keys_to_core(apps, schema_editor):
    """The keys of the last 24 hours keep protecting their retries across the deploy."""
    old = apps.get_model("tasks", "IdempotencyKey")
    new = apps.get_model("core", "IdempotencyKey")
    user = apps.get_model("accounts", "User")
    content_type = apps.get_model("contenttypes", "ContentType")
    task_type = content_type.objects.get_or_create(app_label="tasks", model="task")[0]
    owners = dict(
        user.objects.filter(better_auth_id__in=old.objects.values("owner_id")).values_list("better_auth_id", "pk")
    )
    new.objects.bulk_create(
        [
            new(
                owner_id=owners[key.owner_id],
                key=key.key,
                fingerprint=key.fingerprint,
                created_at=key.created_at,
                response_status=key.response_status,
                response_body=key.response_body,
                response_headers=key.response_headers,
                created_type=task_type if key.task_id is not None else None,
                created_id=key.task_id,
            )
            for key in old.objects.all()
            if key.owner_id in owners
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tasks", "0008_idempotency_key_task"),
    ]

    operations = [
        migrations.RunPython(copy_keys_to_core, migrations.RunPython.noop),
        migrations.DeleteModel(name="IdempotencyKey"),
    ]
