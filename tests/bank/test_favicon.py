"""Every page names the site's icon, served from this origin (the CSP's img-src 'self'): no 404 for an icon."""

import pytest
from django.templatetags.static import static
from django.urls import reverse

ICON = static("favicon.svg")


@pytest.mark.parametrize("path", ["/", "/c/alpha/login/", reverse("admin:login")])
def test_pages_link_the_icon(client, world, path):
    response = client.get(path)

    assert response.status_code == 200
    assert f'<link rel="icon" href="{ICON}" type="image/svg+xml">' in response.content.decode()
    assert "img-src 'self'" in response["Content-Security-Policy"]


def test_the_icon_is_served(client, db):
    response = client.get(ICON)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response.streaming_content)
