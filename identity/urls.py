from django.urls import path

from identity import apis

app_name = "identity"

urlpatterns = [
    path("status", apis.StatusApi.as_view(), name="status"),
    path("identities", apis.IdentitiesApi.as_view(), name="identities"),
    path("my-identity", apis.MyIdentityApi.as_view(), name="my-identity"),
    path("register", apis.IdentityRegisterApi.as_view(), name="register"),
    path("authenticate", apis.AuthenticateApi.as_view(), name="authenticate"),
    path("keys/rotate", apis.KeyRotateApi.as_view(), name="key-rotate"),
    path("receipt-key", apis.ReceiptKeyApi.as_view(), name="receipt-key"),
]
