from django.urls import re_path

from tasks.views import ChangesView, TagListView, TaskListViewSet, TaskViewSet

task_list = TaskViewSet.as_view({"get": "list", "post": "create"})
task_detail = TaskViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"})
task_complete = TaskViewSet.as_view({"patch": "complete"})
task_move = TaskViewSet.as_view({"post": "move"})
list_move = TaskListViewSet.as_view({"post": "move"})
task_bulk = TaskViewSet.as_view({"post": "bulk"})
task_stats = TaskViewSet.as_view({"get": "stats"})
list_list = TaskListViewSet.as_view({"get": "list", "post": "create"})
list_detail = TaskListViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

# Ids are bounded so a huge number is a 404, not a database overflow (tasks and lists alike).
TASK_ID = r"(?P<pk>[0-9]{1,18})"
PATH_USER = r"(?P<user_id>[^/]+)"

# Every route matches with and without a trailing slash (`/?$`): no redirects.
urlpatterns = [
    # First: Django tries the patterns in order, and every open client polls this one.
    re_path(r"^api/changes/?$", ChangesView.as_view(), name="changes"),
    re_path(r"^api/tasks/?$", task_list, name="task-list"),
    re_path(r"^api/tasks/bulk/?$", task_bulk, name="task-bulk"),
    re_path(r"^api/tasks/stats/?$", task_stats, name="task-stats"),
    re_path(rf"^api/tasks/{TASK_ID}/?$", task_detail, name="task-detail"),
    re_path(rf"^api/tasks/{TASK_ID}/complete/?$", task_complete, name="task-complete"),
    re_path(rf"^api/tasks/{TASK_ID}/move/?$", task_move, name="task-move"),
    re_path(r"^api/tags/?$", TagListView.as_view(), name="tag-list"),
    re_path(r"^api/lists/?$", list_list, name="list-list"),
    re_path(rf"^api/lists/{TASK_ID}/?$", list_detail, name="list-detail"),
    re_path(rf"^api/lists/{TASK_ID}/move/?$", list_move, name="list-move"),
    # The Phase II spec's routes: the same operations, with the caller's id in the path.
    re_path(rf"^api/{PATH_USER}/tasks/?$", task_list, name="user-task-list"),
    re_path(rf"^api/{PATH_USER}/tasks/{TASK_ID}/?$", task_detail, name="user-task-detail"),
    re_path(rf"^api/{PATH_USER}/tasks/{TASK_ID}/complete/?$", task_complete, name="user-task-complete"),
]
