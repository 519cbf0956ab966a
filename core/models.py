"""The change feed's bookkeeping (core.changes): one counter per user and the deletions it reports.

Both belong to a user row of AUTH_USER_MODEL and go with it: deleting a user deletes their feed.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


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
