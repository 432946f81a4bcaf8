from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from bank import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("c/<slug:community_slug>/api/", include("bank.urls")),
    path("c/<slug:community_slug>/api/", include("ledger.urls")),  # before trust: it serves user/receipts
    path("c/<slug:community_slug>/api/ledger/", include("ledger.motion_urls")),
    path("c/<slug:community_slug>/api/identity/", include("identity.vote_urls")),
    path("c/<slug:community_slug>/api/", include("identity.score_urls")),
    path("c/<slug:community_slug>/api/identity/", include("identity.challenge_urls")),
    path("c/<slug:community_slug>/api/identity/", include("identity.urls")),
    path("c/<slug:community_slug>/api/", include("trust.urls")),
    path("c/<slug:community_slug>/", include("bank.web_urls")),
    path("c/<slug:community_slug>/", include("trust.web_urls")),
    path("c/<slug:community_slug>/", include("ledger.web_urls")),
    path("c/<slug:community_slug>/", include("identity.web_urls")),
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("logout/", views.logout_view, name="logout"),
]

handler404 = "bank.views.not_found"
handler500 = "bank.views.server_error"
