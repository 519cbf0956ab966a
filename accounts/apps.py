from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who the caller is: users, Better Auth token verification, development tokens."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        from accounts import schema  # noqa: F401  (registers the OpenAPI security scheme)
