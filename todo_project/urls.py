from django.contrib import admin
from django.urls import include, path, re_path

from todo_project import errors
from todo_project.health import HealthView, ReadyView

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^healthz/?$", HealthView.as_view(), name="healthz"),
    re_path(r"^readyz/?$", ReadyView.as_view(), name="readyz"),
    path("", include("accounts.urls")),
    path("", include("tasks.urls")),
    # Anything else is a JSON 404, also with DEBUG on (Django's own page would be HTML).
    re_path(r"", errors.not_found),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.not_found
handler500 = errors.server_error
