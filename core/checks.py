"""`check --deploy` names the settings production refuses to start without (settings.py,
`unsafe_production_settings`), also when run with DEBUG on."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def production_settings(app_configs, **kwargs) -> list[Error]:
    return [Error(problem, id="core.E001") for problem in getattr(settings, "PRODUCTION_PROBLEMS", [])]
