from django.db import models
from rest_framework import serializers

from tasks.models import Task


class StrictCharField(serializers.CharField):
    """A CharField that takes JSON strings only (no numbers) holding text the database can store."""

    default_error_messages = {
        "invalid": "Must be a string.",
        "invalid_characters": "Contains characters that are not valid Unicode text.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates, e.g. "\ud800"
            self.fail("invalid_characters")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField that takes JSON true and false only, not "yes" or 1."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictSerializerMixin:
    """Rejects body fields the serializer does not know, so a typo is never silently dropped.

    Read-only fields are known: a client may send back a task it received, and they are
    ignored rather than written.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: [serializers.ErrorDetail("Unknown field.", code="unknown_field")] for key in unknown}
                )
        return super().to_internal_value(data)


class TaskSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A task as the API reads and writes it."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.BooleanField: StrictBooleanField,
    }

    user_id = serializers.CharField(source="owner_id", read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "user_id",
            "title",
            "description",
            "completed",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["completed_at", "created_at", "updated_at"]
        # PUT replaces the writable fields: what it leaves out goes back to its default.
        extra_kwargs = {
            "description": {"default": ""},
            "completed": {"default": False},
        }

    def create(self, validated_data):
        completed = validated_data.pop("completed", False)
        task = Task(**validated_data)
        task.set_completed(completed)
        task.save()
        return task

    def update(self, instance, validated_data):
        if "completed" in validated_data:
            instance.set_completed(validated_data.pop("completed"))
        return super().update(instance, validated_data)


class TaskCompleteSerializer(StrictSerializerMixin, serializers.Serializer):
    """Body of ``/complete``: empty to toggle, or ``{"completed": bool}`` to set."""

    completed = StrictBooleanField(required=False)
