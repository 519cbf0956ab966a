from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who the caller is: users, Better Auth token verification, development tokens."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
