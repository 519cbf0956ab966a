"""The admin's sign-in form, with a budget of failed sign-ins per client address and per username.

Each failed password costs about 250 ms of hashing, and without a limit a password can be
guessed at full speed. Failures are counted in the shared cache (Redis, or the database),
so every process of every instance spends from the same budget, as the API's budgets do
(core/throttling.py). Over the limit every sign-in from that address or for that
username is refused until the window ends, the right password included, before any
password is checked.
"""

import logging
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import caches
from django.core.exceptions import ValidationError

from core.throttling import AnonymousThrottle, bounded, window_count

logger = logging.getLogger("accounts.admin_login")


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """Django's admin sign-in, refused while the address or the username has too many failures."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked": "Too many failed sign-ins from this address or for this username. Try again in %(minutes)s minutes.",
    }

    def clean(self):
        counters = failure_counters(self.request, self.cleaned_data.get("username") or "")
        if sign_in_locked(counters):
            minutes = max(1, round(settings.ADMIN_LOGIN_WINDOW_SECONDS / 60))
            raise ValidationError(self.error_messages["locked"], code="locked", params={"minutes": minutes})
        try:
            return super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                count_failure(counters)
            raise


def failure_counters(request, username: str) -> list[str]:
    """This window's failure counters for the client address and for the username (hashed: any length)."""
    window = int(time.time() // settings.ADMIN_LOGIN_WINDOW_SECONDS)
    address = bounded(AnonymousThrottle().get_ident(request))
    name = bounded(username.strip().lower())
    return [f"admin-login:address:{address}:{window}", f"admin-login:username:{name}:{window}"]


def sign_in_locked(counters: list[str]) -> bool:
    try:
        counts = caches["default"].get_many(counters)
    except Exception:
        # A budget is a guard, not a dependency: without its cache, operators can still sign in.
        logger.warning("admin sign-in budget unavailable; not enforced", exc_info=True)
        return False
    return any(int(count) >= settings.ADMIN_LOGIN_FAILURE_LIMIT for count in counts.values())


def count_failure(counters: list[str]) -> None:
    try:
        for counter in counters:
            window_count(counter, timeout=settings.ADMIN_LOGIN_WINDOW_SECONDS + 1)
    except Exception:
        logger.warning("admin sign-in budget unavailable; failure not counted", exc_info=True)
