from django.urls import path

from trust import views
from trust.services.payments import ACTIONS

app_name = "money"

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
    path("receipts/", views.receipts, name="receipts"),
]
