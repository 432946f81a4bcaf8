from django.urls import path

from ledger import apis

app_name = "ledger"

urlpatterns = [
    path("public/records", apis.PublicRecordsApi.as_view(), name="public-records"),
    path("user/receipts", apis.ReceiptsApi.as_view(), name="receipts"),
    path("ledger/balance", apis.BalanceApi.as_view(), name="balance"),
    path("ledger/verify", apis.VerifyApi.as_view(), name="verify"),
]
