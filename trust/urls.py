"""A community's money pages and its trust API (``trust:api:*``), under ``c/<slug>/``."""

from django.urls import include, path

from trust import apis, views
from trust.services.payments import ACTIONS

app_name = "trust"

api = [
    path("user/accounts", apis.AccountsApi.as_view(), name="accounts"),
    path("user/add_account", apis.AddAccountApi.as_view(), name="add-account"),
    path("user/remove_account", apis.RemoveAccountApi.as_view(), name="remove-account"),
    path("user/set_trustline", apis.SetTrustlineApi.as_view(), name="set-trustline"),
    path("user/trust_index", apis.TrustIndexApi.as_view(), name="trust-index"),
    path("user/local_payment", apis.LocalPaymentApi.as_view(), name="local-payment"),
    path("user/payment", apis.PaymentApi.as_view(), name="payment"),
    path("user/payment/preview", apis.PaymentPreviewApi.as_view(), name="payment-preview"),
    path("user/receive_payment", apis.ReceivePaymentApi.as_view(), name="receive-payment"),
    path("user/payments", apis.PaymentsApi.as_view(), name="payments"),
    # The seed's cross-server names: the same operations, with a server.
    path("federated/add_account", apis.AddAccountApi.as_view(), name="federated-add-account"),
    path("federated/payment", apis.PaymentApi.as_view(), name="federated-payment"),
    path("user/payments/<int:payment_id>", apis.PaymentDetailApi.as_view(), name="payment-detail"),
    *(
        path(
            f"user/payments/<int:payment_id>/{action}",
            apis.PaymentActionApi.as_view(action=action),
            name=f"payment-{action}",
        )
        for action in ACTIONS
    ),
]

urlpatterns = [
    path("money/", views.overview, name="overview"),
    path("trustlines/", views.trustlines, name="trustlines"),
    path("trustlines/add/", views.trustline_add, name="trustline-add"),
    path("trustlines/limit/", views.trustline_set_limit, name="trustline-limit"),
    path("trustlines/remove/", views.trustline_remove, name="trustline-remove"),
    path("pay/", views.pay, name="pay"),
    path("payments/", views.payments_list, name="payments"),
    path("payments/request/", views.payment_request, name="payment-request"),
    path("payments/<int:payment_id>/", views.payment_detail, name="payment"),
    *(
        path(f"payments/<int:payment_id>/{action}/", views.payment_action, {"action": action}, name=f"payment-{action}")
        for action in ACTIONS
    ),
    path("api/", include((api, "api"))),
]
