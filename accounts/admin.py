from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users as operators see them: Better Auth id, email, name, and whether they may sign in."""

    list_display = ["__str__", "better_auth_id", "email", "name", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff"]
    search_fields = ["better_auth_id", "email", "name", "username"]
    ordering = ["-date_joined"]
    readonly_fields = ["better_auth_id", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["better_auth_id", "email", "name", "is_active"]}),
        ("Operator sign-in", {"fields": ["username", "password", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
