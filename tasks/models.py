from django.conf import settings
from django.db import models
from django.utils import timezone


class Task(models.Model):
    """One item on a user's todo list."""

    # Keyed by the Better Auth id, so a task row carries the id the frontend knows
    # (`user_id`) without a join.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        to_field="better_auth_id",
        db_column="user_id",
        related_name="tasks",
    )
    title = models.CharField(max_length=200)
    description = models.CharField(max_length=1000, blank=True, default="")
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The default list: one user's tasks, newest first.
            models.Index(fields=["owner", "-created_at", "-id"], name="task_owner_created"),
        ]

    def __str__(self) -> str:
        return self.title

    def set_completed(self, completed: bool) -> None:
        """Marks the task done or open; ``completed_at`` follows."""
        if completed and not self.completed:
            self.completed_at = timezone.now()
        elif not completed:
            self.completed_at = None
        self.completed = completed
