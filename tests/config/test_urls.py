"""URL wiring: each app mounted once under its own name, and no route hidden by another app's."""

import re

from django.urls import URLPattern, URLResolver, get_resolver, resolve

SAMPLES = {"slug": "alpha", "int": "7"}


def routes(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    """``(path, view name)`` of every route below ``resolver``, converters filled with sample values."""
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from routes(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + str(pattern.pattern), namespace + pattern.name


def test_each_app_is_mounted_once_under_its_own_name():
    mounted = [p.namespace for p in get_resolver().url_patterns if isinstance(p, URLResolver)]

    assert sorted(mounted) == ["admin", "bank", "federation", "identity", "ledger", "trust"]


def test_no_route_is_hidden_by_another():
    checked = 0
    for template, name in routes(get_resolver()):
        if name.startswith("admin:"):
            continue
        path = "/" + re.sub(r"<(\w+):\w+>", lambda m: SAMPLES[m[1]], template)
        assert resolve(path).view_name == name, path
        checked += 1

    assert checked >= 80
