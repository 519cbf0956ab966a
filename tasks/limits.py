"""The size of what a client may send, one constant per limit.

The model, the serializers, the list filters and the OpenAPI document all read them here, so a
limit changes in one place and the schema states exactly what the server enforces. Per-user
quotas (tasks, tags) are settings instead (`TASKS` in todo_project/settings.py).
"""

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 1000
TAG_MAX_LENGTH = 50
TAGS_PER_TASK = 20
# `tag=` values in one list request: no task carries more, and each one costs the query work.
TAGS_PER_FILTER = TAGS_PER_TASK
RECURRENCE_MAX_LENGTH = 500
SEARCH_MAX_LENGTH = 200
BULK_MAX_IDS = 500
LIST_NAME_MAX_LENGTH = 100
