"""Each app mounted once: bank at the root (the instance's pages and ``c/<slug>/``), the others under a
community's prefix. Names are ``app:page`` for pages and ``app:api:operation`` for the API."""

from django.contrib import admin
from django.urls import include, path

COMMUNITY = "c/<slug:community_slug>/"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("bank.urls")),
    path(COMMUNITY, include("trust.urls")),
    path(COMMUNITY, include("identity.urls")),
    path(COMMUNITY, include("ledger.urls")),
    path("", include("federation.urls")),
]

handler404 = "bank.views.not_found"
handler500 = "bank.views.server_error"
