import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")

try:
    application = get_wsgi_application()
except ImproperlyConfigured as error:
    # One line naming the setting instead of a traceback per worker. Exit status 4 is gunicorn's
    # "App failed to load": it stops rather than restarting workers that cannot start.
    print(f"Configuration error: {error}", file=sys.stderr, flush=True)
    sys.exit(4)
