"""The `BETTER_AUTH` settings, each with its one default, read as attributes:
`auth_settings.LEEWAY_SECONDS`, as simplejwt's `api_settings` reads `SIMPLE_JWT`.

todo_project/settings.py puts in `BETTER_AUTH` only what the environment sets (the
`BETTER_AUTH_*` variables, README); everything else comes from `DEFAULTS` here.
"""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from rest_framework.settings import APISettings

# None marks the three defaults that follow BETTER_AUTH_URL (see `derived`).
DEFAULTS: dict[str, Any] = {
    # Shared-secret tokens, checked with BETTER_AUTH_SECRET only; [] turns them off.
    "HS_ALGORITHMS": ["HS256", "HS384", "HS512"],
    # Asymmetric tokens, checked with Better Auth's published keys only (its jwt() plugin's choices).
    "JWKS_ALGORITHMS": ["EdDSA", "ES256", "ES512", "RS256", "PS256"],
    "JWKS_URL": None,  # {BETTER_AUTH_URL}/api/auth/jwks
    # A key set given inline replaces the URL, for deployments that cannot reach Better Auth.
    "JWKS": None,
    "JWKS_CACHE_SECONDS": 600,
    # An unknown kid (a freshly rotated key) refetches at most this often.
    "JWKS_REFETCH_COOLDOWN_SECONDS": 10,
    "JWKS_TIMEOUT_SECONDS": 2,
    "JWKS_MAX_BYTES": 64 * 1024,
    # The Django cache that shares fetched keys between processes (Redis when CACHES says so).
    "JWKS_CACHE_ALIAS": "default",
    # Better Auth sets iss and aud to the origin of its base URL; "" and [] turn the checks off.
    "ISSUER": None,  # the origin of BETTER_AUTH_URL
    "AUDIENCE": None,  # [the origin of BETTER_AUTH_URL]
    "LEEWAY_SECONDS": 30,
    # Claims a token must carry; Better Auth always sets these three.
    "REQUIRED_CLAIMS": ["exp", "iat", "sub"],
    # Each process remembers a token's user this long instead of reading the row per request;
    # a deactivation takes effect within it. 0 reads the row on every request.
    "USER_CACHE_SECONDS": 30,
    # Each process remembers a token it verified this long (never past its exp) instead of
    # checking its signature again. Nothing about a signed token changes; the JWKS's keys are
    # trusted JWKS_CACHE_SECONDS anyway, so a withdrawn key stops working within the two.
    "TOKEN_CACHE_SECONDS": 600,
}


def origin(url: str) -> str:
    """`scheme://host[:port]` of an absolute URL."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ImproperlyConfigured(f"BETTER_AUTH_URL must be an absolute URL, got {url!r}.")
    return f"{parts.scheme}://{parts.netloc}"


def derived(name: str, better_auth_url: str) -> Any:
    """The default of a setting that follows BETTER_AUTH_URL."""
    return {
        "JWKS_URL": f"{better_auth_url}/api/auth/jwks",
        "ISSUER": origin(better_auth_url),
        "AUDIENCE": [origin(better_auth_url)],
    }[name]


class BetterAuthSettings(APISettings):
    """`settings.BETTER_AUTH` over `DEFAULTS`; a key it does not know stops the start."""

    @property
    def user_settings(self) -> dict[str, Any]:
        if not hasattr(self, "_user_settings"):
            configured = getattr(settings, "BETTER_AUTH", {})
            if unknown := sorted(set(configured) - set(self.defaults)):
                raise ImproperlyConfigured(f"BETTER_AUTH has no setting {', '.join(unknown)}.")
            self._user_settings = configured
        return self._user_settings

    def __getattr__(self, name: str) -> Any:
        value = super().__getattr__(name)
        if value is None and name in ("JWKS_URL", "ISSUER", "AUDIENCE"):
            value = derived(name, settings.BETTER_AUTH_URL)
            setattr(self, name, value)  # cached with the rest until the settings change
        return value


auth_settings = BetterAuthSettings(None, DEFAULTS)


def reload_auth_settings(*, setting: str, **kwargs) -> None:
    if setting in ("BETTER_AUTH", "BETTER_AUTH_URL"):
        auth_settings.reload()


setting_changed.connect(reload_auth_settings)
