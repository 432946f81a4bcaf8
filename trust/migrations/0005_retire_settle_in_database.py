"""Payments settle in batches from Python now (``trust.services.moving.move_batch``), on every database:
the one-payment PL/pgSQL ``trust_settle`` of ``0003`` is retired."""

from importlib import import_module

from django.db import migrations

earlier = import_module("trust.migrations.0003_settle_in_database")


class Migration(migrations.Migration):
    dependencies = [("trust", "0004_settlement_requests")]

    operations = [
        migrations.RunPython(earlier.on_postgresql(earlier.UNSETTLE), earlier.on_postgresql(earlier.SETTLE)),
    ]
