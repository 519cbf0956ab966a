import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Creates the first operator (an admin superuser) from DJANGO_OPERATOR_USERNAME, "
        "DJANGO_OPERATOR_PASSWORD and DJANGO_OPERATOR_EMAIL. Safe to repeat: an existing "
        "operator of that name is left as it is (its password may have been changed since)."
    )

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_OPERATOR_USERNAME", "").strip()
        password = os.environ.get("DJANGO_OPERATOR_PASSWORD", "")
        email = os.environ.get("DJANGO_OPERATOR_EMAIL", "").strip()
        if not username:
            raise CommandError("DJANGO_OPERATOR_USERNAME is not set.")
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Operator {username!r} already exists; left unchanged.")
            return
        if not password:
            raise CommandError("DJANGO_OPERATOR_PASSWORD is not set.")
        operator = User(username=username, email=email, is_staff=True, is_superuser=True)
        try:
            operator.full_clean(exclude=["password"])
            validate_password(password, operator)
        except ValidationError as e:
            raise CommandError(f"Cannot create operator {username!r}: {' '.join(e.messages)}") from e
        operator.set_password(password)
        operator.save()
        self.stdout.write(f"Created operator {username!r}; sign in at /admin/.")
