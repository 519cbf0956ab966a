from django.contrib import admin

from tasks.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Tasks for operators: find, fix and clean up."""

    list_display = ["title", "owner", "completed", "updated_at"]
    list_filter = ["completed"]
    search_fields = ["title", "owner__email"]
    raw_id_fields = ["owner"]
    readonly_fields = ["completed_at", "created_at", "updated_at"]
    list_select_related = ["owner"]
