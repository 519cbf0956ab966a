"""How much a worker's memory grows when it verifies a flood of distinct, large, valid tokens.

    .venv/bin/python -m bench.token_memory [--tokens 20000] [--token-bytes 8000]

Each token is signed with BETTER_AUTH_SECRET, goes through the API's authentication with the
token memory on (accounts/user_cache.py), and is dropped; the RSS before and after is printed.
"""

import argparse
import gc
import os
import secrets
from pathlib import Path


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--token-bytes", type=int, default=8_000)
    options = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("BETTER_AUTH_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("BETTER_AUTH_URL", "http://localhost:3000")
    os.environ.setdefault("CORS_ALLOWED_ORIGINS", "http://localhost:3000")
    # The settings' development default, named: production refuses to guess it.
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(__file__).resolve().parent.parent / 'db.sqlite3'}")
    os.environ.setdefault("BETTER_AUTH_TOKEN_CACHE_SECONDS", "600")
    import django

    django.setup()
    from accounts.authentication import BetterAuthAuthentication
    from accounts.tokens import development_token
    from accounts.user_cache import recent_tokens

    authentication = BetterAuthAuthentication()
    # The name pads each token to the size asked for (base64 makes 3 bytes 4 characters).
    padding = "n" * (options.token_bytes * 3 // 4 - 420)

    def one_token(i: int) -> bytes:
        return development_token(user_id=f"user{i:028d}", name=padding + str(i)).encode()

    authentication.get_validated_token(one_token(-1))  # imports and first-use allocations
    gc.collect()
    before = rss_mb()
    size = 0
    for i in range(options.tokens):
        raw = one_token(i)
        size = len(raw)
        authentication.get_validated_token(raw)
    gc.collect()
    after = rss_mb()
    print(
        f"{options.tokens} tokens of {size} bytes: RSS {before:.1f} -> {after:.1f} MB "
        f"(+{after - before:.1f} MB); the token memory holds {len(recent_tokens._entries)} of them"
    )


if __name__ == "__main__":
    main()
