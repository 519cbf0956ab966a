"""A task's shape is TaskSerializer's `Meta.fields`: every route answers what DRF renders from
the stored task, and a new model field needs no edit beyond the model, its migration and
`Meta.fields`."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from tasks.models import Priority, Tag, Task
from tasks.queries import caller_tasks, tasks_with_tag_names
from tasks.serializers import TaskSerializer, converter_of
from tests.tasks.factories import make_task

# Task fields the API does not show, each for a reason; any other model field must be in
# TaskSerializer.Meta.fields.
INTERNAL_FIELDS = {
    "owner": "shown as `user_id`",
    "next_occurrence": "bookkeeping of recurring tasks",
    "version": "shown as the ETag",
    "change_seq": "the task's place in the change feed, behind its opaque cursor",
}


def plain_drf(task: Task) -> dict:
    """TaskSerializer's fields rendered by DRF's own Serializer.to_representation, field by field."""
    return serializers.Serializer.to_representation(TaskSerializer(), task)


def stored_json(task_id: int) -> bytes:
    """The task as it is stored, rendered the plain DRF way: a fresh instance, its tags
    prefetched, DRF's field-by-field representation and DRF's own JSONRenderer."""
    return JSONRenderer().render(plain_drf(Task.objects.prefetch_related("tags").get(pk=task_id)))


def stored_completion_json(task_id: int, created_id: int | None) -> bytes:
    """A `/complete` answer as stored: the task, and the occurrence it created (or null)."""
    task = plain_drf(Task.objects.prefetch_related("tags").get(pk=task_id))
    created = None if created_id is None else plain_drf(Task.objects.prefetch_related("tags").get(pk=created_id))
    return JSONRenderer().render({**task, "next_occurrence": created})


def stored_list_json(task_ids: list[int]) -> bytes:
    by_id = {task.pk: task for task in Task.objects.prefetch_related("tags").filter(pk__in=task_ids)}
    return JSONRenderer().render([plain_drf(by_id[pk]) for pk in task_ids])


@pytest.fixture
def alices_varied_tasks(alice, bob) -> list[Task]:
    plain = make_task(alice, title="plain")
    done = make_task(
        alice, title="done \u2603", description='caf\u00e9\n"quoted"', completed=True, priority=Priority.HIGH
    )
    due = make_task(
        alice,
        title="due",
        due_at=datetime(2026, 1, 31, 9, 30, 0, 250000, tzinfo=UTC),
        recurrence="FREQ=WEEKLY;BYDAY=MO",
        priority=Priority.LOW,
    )
    tags = [Tag.objects.create(owner=alice, name=name) for name in ("work", "Errands", "home")]
    done.tags.set(tags)
    plain.tags.set(tags[:1])
    make_task(bob, title="bob's")
    return [due, done, plain]  # newest first


# Text fields whose values have a form of their own (any other text gets its name and a snowman).
TEXT_WITH_A_FORM = {"color": "#a1b2c3", "due_timezone": "America/New_York", "recurrence": "FREQ=WEEKLY;BYDAY=MO"}


def filled_values(model: type[models.Model], owner) -> dict:
    """A value other than the default for every concrete field of `model` the model lets be set,
    relations included (a row of the owner's made the same way), read from the model itself: a
    new field is covered without editing this test, and one of a kind it does not know fails it."""
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.auto_created:
            continue
        if field.is_relation:
            if field.related_model is model:
                continue  # a task's link to another task (bookkeeping), never shown
            related = field.related_model
            values[field.name] = (
                owner if related is type(owner) else related.objects.create(**filled_values(related, owner))
            )
        elif field.choices:
            values[field.name] = field.choices[-1][0]
        elif isinstance(field, models.BooleanField):
            values[field.name] = True
        elif isinstance(field, models.DateTimeField):
            values[field.name] = datetime(2026, 1, 31, 9, 30, 0, 250000, tzinfo=UTC)
        elif isinstance(field, models.DateField):
            values[field.name] = date(2026, 2, 28)
        elif field.name in TEXT_WITH_A_FORM:
            values[field.name] = TEXT_WITH_A_FORM[field.name]
        elif isinstance(field, models.CharField):
            values[field.name] = f"{field.name} \u2603"[: field.max_length]
        elif isinstance(field, models.IntegerField):
            values[field.name] = 7
        else:
            raise AssertionError(
                f"teach filled_values a value for {model.__name__}.{field.name} ({type(field).__name__})"
            )
    return values


@pytest.fixture
def alices_full_task(alice, bob) -> Task:
    make_task(bob, title="bob's")
    task = Task.objects.create(**filled_values(Task, alice))
    task.tags.set([Tag.objects.create(owner=alice, name="work")])
    return task


@pytest.mark.parametrize("path", ["/api/tasks", "/api/{alice}/tasks"])
@pytest.mark.parametrize("params", [{}, {"status": "all"}])
def test_a_task_with_every_field_filled_reads_the_same_on_every_route(
    alice_client, alice, alices_full_task, path, params
):
    listed = alice_client.get(path.format(alice=alice.better_auth_id), params)
    assert listed.content == stored_list_json([alices_full_task.pk])
    one = alice_client.get(f"{path.format(alice=alice.better_auth_id)}/{alices_full_task.pk}")
    assert one.content == stored_json(alices_full_task.pk)
    assert one.json()["list_id"] == alices_full_task.list_id is not None


def test_every_task_field_is_shown_or_internal_for_a_stated_reason():
    # A foreign key is shown as its id (`list_id`).
    concrete = {
        field.attname
        if field.is_relation and field.name not in INTERNAL_FIELDS and not field.many_to_many
        else field.name
        for field in Task._meta.get_fields()
        if field.concrete
    }
    shown = set(TaskSerializer.Meta.fields)
    assert concrete - shown == set(INTERNAL_FIELDS)
    assert not shown & set(INTERNAL_FIELDS)


def test_the_planned_representation_is_drfs_for_tasks_read_either_way(alice, alices_varied_tasks):
    for task in tasks_with_tag_names(caller_tasks(alice.better_auth_id)):
        assert TaskSerializer(task).data == plain_drf(task)
    for task in caller_tasks(alice.better_auth_id).prefetch_related("tags"):
        assert TaskSerializer(task).data == plain_drf(task)


def test_the_readmes_task_table_lists_exactly_the_fields_a_task_shows():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("### A task", 1)[1].split("\n\n", 2)[1]
    documented = {name for line in table.splitlines()[2:] for name in re.findall(r"`(\w+)`", line.split("|")[1])}
    assert documented == set(TaskSerializer.Meta.fields)


@pytest.mark.parametrize("path", ["/api/tasks", "/api/{alice}/tasks"])
@pytest.mark.parametrize("params", [{}, {"limit": 2}, {"sort": "created"}, {"status": "all", "limit": 2, "offset": 1}])
def test_lists_answer_what_drf_renders_for_the_stored_tasks(alice_client, alice, alices_varied_tasks, path, params):
    response = alice_client.get(path.format(alice=alice.better_auth_id), params)
    assert response.status_code == 200
    ids = [task["id"] for task in response.json()]
    offset, limit = params.get("offset", 0), params.get("limit", 100)
    assert ids == [task.pk for task in alices_varied_tasks][offset : offset + limit]
    assert response.content == stored_list_json(ids)


@pytest.mark.parametrize("path", ["/api/tasks/{id}", "/api/{alice}/tasks/{id}"])
def test_one_task_answers_what_drf_renders_for_it(alice_client, alice, alices_varied_tasks, path):
    for task in alices_varied_tasks:
        response = alice_client.get(path.format(alice=alice.better_auth_id, id=task.pk))
        assert response.content == stored_json(task.pk)


def test_write_answers_are_what_drf_renders_for_the_stored_task(alice_client, alice):
    created = alice_client.post(
        "/api/tasks", {"title": " Café ", "priority": "high", "due_at": "2026-05-01T10:00:00.5+02:00"}, format="json"
    )
    assert created.status_code == 201
    task_id = created.json()["id"]
    assert created.content == stored_json(task_id)
    with_tags = alice_client.post(
        f"/api/{alice.better_auth_id}/tasks", {"title": "tagged", "tags": ["b", "A"]}, format="json"
    )
    assert with_tags.content == stored_json(with_tags.json()["id"])
    for _ in range(2):  # complete, then reopen
        toggled = alice_client.patch(f"/api/tasks/{with_tags.json()['id']}/complete", format="json")
        assert toggled.status_code == 200
        assert toggled.content == stored_completion_json(with_tags.json()["id"], None)
    patched = alice_client.patch(f"/api/tasks/{task_id}", {"tags": ["x"], "completed": True}, format="json")
    assert patched.content == stored_json(task_id)
    replaced = alice_client.put(f"/api/tasks/{task_id}", {"title": "replaced", "tags": ["y", "X"]}, format="json")
    assert replaced.status_code == 200
    assert replaced.content == stored_json(task_id)


def test_completing_a_recurring_task_answers_both_as_stored(alice_client, alice):
    task = make_task(
        alice,
        title="weekly",
        due_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        recurrence="FREQ=WEEKLY",
        priority=Priority.HIGH,
    )
    task.tags.set([Tag.objects.create(owner=alice, name="routine")])
    completed = alice_client.patch(f"/api/tasks/{task.pk}/complete", format="json")
    task.refresh_from_db()
    assert completed.content == stored_completion_json(task.pk, task.next_occurrence_id)
    following = alice_client.get(f"/api/tasks/{task.next_occurrence_id}").json()
    assert {k: following[k] for k in ("title", "description", "priority", "tags", "recurrence", "due_at")} == {
        "title": "weekly",
        "description": "",
        "priority": "high",
        "tags": ["routine"],
        "recurrence": "FREQ=WEEKLY",
        "due_at": "2026-01-12T09:00:00Z",
    }


def field_for(model_field: models.Field):
    """The serializer field TaskSerializer builds for a new model field, as if it were in Meta.fields."""
    model_field.set_attributes_from_name("probe")
    model_field.model = Task
    field_class, kwargs = TaskSerializer().build_standard_field("probe", model_field)
    return field_class(**kwargs)


@pytest.mark.parametrize(
    ("model_field", "accepted", "refused"),
    [
        (models.PositiveIntegerField(default=0), [0, 5], ["5", 5.0, True, -1, None]),
        (models.IntegerField(null=True), [-3, None], ["-3", 1.5, False]),
        (models.BigIntegerField(default=0), [2**40], [str(2**40), True]),
        (models.BooleanField(default=False), [True, False], [1, 0, "true", "yes", None]),
        (models.CharField(max_length=5, blank=True, default=""), ["abc", " ab "], [5, True, ["a"], "abcdef"]),
        (models.TextField(blank=True), ["long text"], [5, False]),
        (
            models.DateTimeField(null=True),
            ["2026-01-31T09:00:00Z", "2026-01-31T10:00:00+01:00"],
            ["2026-01-31T09:00:00", "2026-01-31", 5],
        ),
        (models.FloatField(default=0.0), [1.5, 2], ["1.5", True]),
    ],
    ids=["positive-integer", "integer", "big-integer", "boolean", "char", "text", "date-time", "float"],
)
def test_a_new_model_field_is_typed_as_strictly_as_the_existing_ones(model_field, accepted, refused):
    field = field_for(model_field)
    for value in accepted:
        field.run_validation(value)
    for value in refused:
        with pytest.raises(ValidationError):
            field.run_validation(value)


@pytest.mark.parametrize(
    ("model_field", "values"),
    [
        (models.PositiveIntegerField(), [0, 7]),
        (models.BooleanField(), [True, False]),
        (models.CharField(max_length=9), ["", "caf\u00e9"]),
        (models.FloatField(), [0.5, 2.0]),
        (models.DecimalField(max_digits=5, decimal_places=2), [Decimal("1.50")]),
        (
            models.DateTimeField(),
            [
                datetime(2026, 1, 31, 9, 30, 0, 250, tzinfo=UTC),
                datetime(2026, 1, 31, 9, tzinfo=ZoneInfo("Europe/Paris")),
            ],
        ),
    ],
    ids=["integer", "boolean", "char", "float", "decimal", "date-time"],
)
def test_a_new_fields_planned_conversion_is_what_drf_gives(model_field, values):
    field = field_for(model_field)
    for value in values:
        assert converter_of(field)(value) == field.to_representation(value)


def test_a_new_field_with_a_default_goes_back_to_it_on_put():
    field = field_for(models.PositiveIntegerField(default=3))
    assert not field.required and field.get_default() == 3
