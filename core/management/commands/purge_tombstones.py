from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from core.changes import tombstones_purge


class Command(BaseCommand):
    help = "Deletes the change feed's tombstones older than SYNC_TOMBSTONE_DAYS (run it daily, e.g. from a scheduler)."

    def handle(self, *args, **options):
        before = timezone.now() - timedelta(days=settings.SYNC_TOMBSTONE_DAYS)
        self.stdout.write(
            f"Deleted {tombstones_purge(before=before)} tombstones older than {before:%Y-%m-%d %H:%M} UTC."
        )
