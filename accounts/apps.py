from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who the caller is: users, Better Auth token verification, development tokens."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        from django.db.models.signals import post_delete

        from accounts import schema  # noqa: F401  (registers the OpenAPI security scheme)
        from accounts.models import User
        from accounts.user_cache import forget_deleted_user

        post_delete.connect(forget_deleted_user, sender=User)
