"""The instance's pages and, under ``c/<slug>/``, a community's pages and the platform API (``bank:api:*``)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from bank import apis, views

app_name = "bank"

api = [
    path("auth/login", apis.LoginApi.as_view(), name="login"),
    path("auth/logout", apis.LogoutApi.as_view(), name="logout"),
    path("auth/whoami", apis.WhoAmIApi.as_view(), name="whoami"),
    path("auth/change_password", apis.ChangePasswordApi.as_view(), name="change-password"),
    path("admin/create_user", apis.CreateUserApi.as_view(), name="create-user"),
    path("admin/delete_user", apis.DeleteUserApi.as_view(), name="delete-user"),
    path("admin/reset_password", apis.ResetPasswordApi.as_view(), name="reset-password"),
    path("admin/list_users", apis.ListUsersApi.as_view(), name="list-users"),
    path("admin/create_invite", apis.CreateInviteApi.as_view(), name="create-invite"),
    path("invite/register", apis.RegisterApi.as_view(), name="register"),
    path("user/app_tokens", apis.AppTokensApi.as_view(), name="app-tokens"),
    # App tokens are "app_" and url-safe base64, slugs: a path holding anything else (NUL) never reaches the database.
    path("user/app_tokens/<slug:token>/revoke", apis.AppTokenRevokeApi.as_view(), name="app-token-revoke"),
]

community = [
    path("", views.community_home, name="home"),
    path("login/", views.community_login, name="login"),
    path("register/", views.community_register, name="register"),
    path("api/", include((api, "api"))),
]

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("logout/", views.logout_view, name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.ApiDocsView.as_view(url_name="bank:api-schema"), name="api-docs"),
    path("c/<slug:community_slug>/", include(community)),
]
