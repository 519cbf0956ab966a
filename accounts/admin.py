from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_login import ThrottledAdminLoginForm
from accounts.models import User

# Failed sign-ins are limited per address and per username (accounts/admin_login.py).
admin.site.login_form = ThrottledAdminLoginForm


ACTIVE_HELP = (
    "Untick to refuse this user's tokens (403 account_disabled within 30 seconds) and keep their data. "
    "Deleting the user instead erases their tasks; their next sign-in starts a new, empty account."
)


class UserChangeList(ChangeList):
    """The users changelist, with each shown user's task count from one query for the page."""

    def get_results(self, request):
        super().get_results(request)
        # Counting in the list's own query would count for every row skipped by the page offset
        # too; this counts for the page's users only, through the task owner index.
        # Iterating fills the page's cache, so the template shows these very objects.
        users = list(self.result_list)
        counts = dict(
            User.objects.filter(pk__in=[user.pk for user in users]).values_list("pk").annotate(Count("tasks"))
        )
        for user in users:
            user.task_count = counts.get(user.pk, 0)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users as operators see them: who they are, when the API last saw them, whether they may use it.

    Deactivating takes effect within BETTER_AUTH_USER_CACHE_SECONDS (30 s): each API process
    re-reads a user's row that often, and then answers a deactivated user 403 `account_disabled`.
    Deleting erases the user's tasks, tags and idempotency keys at once; Better Auth still knows
    the person, so their next token signs in as a new, empty account (a process that remembered
    the row refuses one write with 401 `account_deleted` first). To keep someone out, deactivate.
    """

    list_display = ["__str__", "better_auth_id", "email", "name", "is_active", "last_seen_at", "task_count", "is_staff"]
    list_filter = ["is_active", "is_staff"]
    search_fields = ["=better_auth_id", "email", "name", "username"]
    ordering = ["-date_joined", "-pk"]
    readonly_fields = ["better_auth_id", "last_seen_at", "task_count", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["better_auth_id", "email", "name", "is_active", "last_seen_at", "task_count"]}),
        (
            "Operator sign-in",
            {"fields": ["username", "password", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    actions = ["deactivate", "reactivate", "delete_selected"]
    # The total under "N users" would be a second COUNT(*) on every page.
    show_full_result_count = False

    def get_form(self, request, obj=None, **kwargs):
        kwargs["help_texts"] = {"is_active": ACTIVE_HELP, **kwargs.get("help_texts", {})}
        return super().get_form(request, obj, **kwargs)

    def get_changelist(self, request, **kwargs):
        return UserChangeList

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.resolver_match.url_name == "autocomplete":
            # Picking a task's owner: only API users can own tasks (operators have no Better Auth id).
            results = results.exclude(better_auth_id=None)
        return results, may_have_duplicates

    @admin.display(description="tasks")
    def task_count(self, user: User):
        """A link to the user's tasks; the changelist counts its page at once, a user's page asks."""
        if not user.better_auth_id:
            return "-"
        count = user.task_count if hasattr(user, "task_count") else user.tasks.count()
        tasks = reverse("admin:tasks_task_changelist") + f"?owner__exact={user.better_auth_id}"
        return format_html('<a href="{}">{}</a>', tasks, count)

    @admin.action(description="Deactivate selected users (their tokens are refused within 30 seconds)")
    def deactivate(self, request, queryset: QuerySet[User]) -> None:
        # An operator cannot lock themself out of the admin by accident.
        changed = queryset.exclude(pk=request.user.pk).filter(is_active=True).update(is_active=False)
        self.message_user(request, f"Deactivated {changed} user(s); the API refuses their tokens with 403.")
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "You cannot deactivate yourself.", messages.WARNING)

    @admin.action(
        description="Delete selected users and erase their tasks (they may sign in again as new, empty accounts)",
        permissions=["delete"],
    )
    def delete_selected(self, request, queryset: QuerySet[User]):
        return delete_selected(self, request, queryset)

    @admin.action(description="Reactivate selected users")
    def reactivate(self, request, queryset: QuerySet[User]) -> None:
        changed = queryset.filter(is_active=False).update(is_active=True)
        self.message_user(request, f"Reactivated {changed} user(s); their tokens work again.")
