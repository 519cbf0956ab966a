from django.core.management.base import BaseCommand, CommandError

from accounts.tokens import development_token


class Command(BaseCommand):
    help = "Prints a Better Auth style HS256 token for a user id, signed with BETTER_AUTH_SECRET."

    def add_arguments(self, parser):
        parser.add_argument("user_id", help="The Better Auth user id (the token's sub).")
        parser.add_argument("--email", default="", help="The email claim.")
        parser.add_argument("--name", default="", help="The name claim.")
        parser.add_argument("--minutes", type=int, default=60, help="Lifetime in minutes (default 60).")

    def handle(self, *args, user_id, email, name, minutes, **options):
        if minutes < 1:
            raise CommandError("--minutes must be at least 1.")
        try:
            token = development_token(user_id=user_id, email=email, name=name, minutes=minutes)
        except ValueError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(token)
