"""What every benchmark needs: the project importable, Django set up, and percentiles."""

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"


def setup_django(database_url: str | None = None) -> None:
    """Set Django up with the project's settings (and ``database_url`` as its database, when given)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
    os.environ.setdefault("SERVER_KEY", "be" * 32)  # benchmark only
    os.environ.setdefault("LEDGER_KEY", "1b" * 32)  # benchmark only
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of unsorted samples."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"
