from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BetterAuthScheme(OpenApiAuthenticationExtension):
    """Describes BetterAuthAuthentication as an HTTP bearer scheme, so "Authorize" works in the docs."""

    target_class = "accounts.authentication.BetterAuthAuthentication"
    name = "BetterAuth"
    priority = 1  # over simplejwt's own extension, which would match this subclass

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "A Better Auth JWT: EdDSA/ES256/ES512/RS256/PS256 from the jwt() plugin, or HS256/384/512 "
                "signed with the shared secret. For local use: `python manage.py devtoken <user_id>`."
            ),
        }
