from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The shared kernel: no models, only the template filters in ``core.templatetags``."""

    name = "core"
    verbose_name = "Core"
