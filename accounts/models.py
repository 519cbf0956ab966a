from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person: a Better Auth user provisioned from their first token, or an operator.

    API users are identified by ``better_auth_id`` and have no username or usable password;
    operators sign in to the admin with a username and have no Better Auth id.
    """

    username = models.CharField(
        max_length=150,
        unique=True,
        null=True,
        blank=True,
        validators=[AbstractUser.username_validator],
        help_text="Operators only: the admin sign-in name.",
    )
    better_auth_id = models.CharField(
        "Better Auth id",
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text="The token's sub claim; the id the frontend knows this user by.",
    )
    name = models.CharField(max_length=255, blank=True)
    last_seen_at = models.DateTimeField(
        "last seen",
        null=True,
        blank=True,
        editable=False,
        help_text="When the API last saw this user's token, to within a few minutes.",
    )

    def __str__(self) -> str:
        return self.username or self.email or self.better_auth_id or f"user {self.pk}"
