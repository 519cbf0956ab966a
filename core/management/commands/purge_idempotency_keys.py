from django.core.management.base import BaseCommand

from core.idempotency import KEY_LIFETIME, idempotency_keys_purge


class Command(BaseCommand):
    help = f"Deletes the Idempotency-Keys older than {KEY_LIFETIME} (run it daily, e.g. from a scheduler)."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {idempotency_keys_purge()} expired idempotency keys.")
