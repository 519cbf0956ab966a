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


# The change feed's bookkeeping (core.changes): one counter per user and the deletions it
# reports, both belonging to a user row and going with it (deleting a user deletes their feed).


class ChangeCounter(models.Model):
    """How many changes a user's feed has numbered; its row lock orders the user's writes."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField(default=0)
    # The last change whose tombstones were purged: a cursor before it has missed deletions.
    purged_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.seq}"


class Tombstone(models.Model):
    """A deleted row, kept so that a feed can report its deletion: its model, id and change."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=100, help_text="The deleted row's model, as its label (`tasks.task`).")
    object_id = models.BigIntegerField()
    seq = models.BigIntegerField(help_text="The change that deleted it: its place in the user's feed.")
    deleted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["user", "kind", "seq", "object_id"], name="tombstone_user_kind_seq"),
            models.Index(fields=["deleted_at"], name="tombstone_deleted_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
