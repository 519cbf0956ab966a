from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

IDEMPOTENCY_KEY_MAX_LENGTH = 255  # printable ASCII characters


class IdempotencyKey(models.Model):
    """An Idempotency-Key sent with a create, and the response to replay to its retries (core.idempotency)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    # SHA-256 of the request body: a retry must send the same bytes.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # Empty while the first request runs; written in that request's own transaction.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    # The row the request created: deleting it forgets the key and the answer it stored, through a
    # GenericRelation to IdempotencyKey on its model (tasks.models: Task, TaskList).
    created_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE, editable=False)
    created_id = models.BigIntegerField(null=True, blank=True, editable=False)
    created = GenericForeignKey("created_type", "created_id")

    class Meta:
        constraints = [models.UniqueConstraint("owner", "key", name="core_idempotency_owner_key_unique")]
        indexes = [
            models.Index(fields=["created_at"], name="core_idempotency_created"),
            # A user's keys, newest first: the ones past KEYS_PER_USER go (core.idempotency).
            models.Index(fields=["owner", "-created_at"], name="core_idempotency_owner_created"),
            # The key a deleted row created (the GenericRelation's cascade).
            models.Index(fields=["created_type", "created_id"], name="core_idempotency_created_row"),
        ]

    def __str__(self) -> str:
        return self.key
