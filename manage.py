#!/usr/bin/env python
import os
import sys

DEVELOPMENT_HINT = ' In a development checkout, run commands as `make manage ARGS="..."` (DEBUG=true, as `make run`).'


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reads config/settings.py, where a missing or bad variable stops start-up
    except ImproperlyConfigured as exc:
        # One line, not a traceback; where DEBUG was never set, this may be a development checkout.
        hint = "" if "DEBUG" in os.environ or "DEBUG_FILE" in os.environ else DEVELOPMENT_HINT
        sys.exit(f"manage.py: {exc}.{hint}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
