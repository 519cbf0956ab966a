from django.contrib import admin
from django.urls import include, path, re_path

from core import errors
from core.docs import RedocView, SchemaView, SwaggerView, docs_public
from core.health import HealthView, ReadyView

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^healthz/?$", HealthView.as_view(), name="healthz"),
    re_path(r"^readyz/?$", ReadyView.as_view(), name="readyz"),
    # Only where API_DOCS_PUBLIC is on (by default with DJANGO_DEBUG); else a JSON 404.
    re_path(r"^api/schema/?$", docs_public(SchemaView.as_view()), name="schema"),
    re_path(r"^api/docs/?$", docs_public(SwaggerView.as_view(url_name="schema")), name="docs"),
    re_path(r"^api/redoc/?$", docs_public(RedocView.as_view(url_name="schema")), name="redoc"),
    path("", include("accounts.urls")),
    path("", include("tasks.urls")),
    # Anything else is a JSON 404, also with DEBUG on (Django's own page would be HTML).
    re_path(r"", errors.not_found),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.not_found
handler500 = errors.server_error
