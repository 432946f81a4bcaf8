"""A community's ledger downloads and the ledger API (``ledger:api:*``), under ``c/<slug>/``."""

from django.urls import include, path

from ledger import views
from ledger.apis import books, motions

app_name = "ledger"

api = [
    path("public/records", books.PublicRecordsApi.as_view(), name="public-records"),
    path("user/receipts", books.ReceiptsApi.as_view(), name="receipts"),
    path("ledger/balance", books.BalanceApi.as_view(), name="balance"),
    path("ledger/verify", books.VerifyApi.as_view(), name="verify"),
    path("ledger/audit", motions.AuditApi.as_view(), name="audit"),
    path("ledger/resolve", motions.ResolveApi.as_view(), name="resolve"),
    path("ledger/second", motions.SecondApi.as_view(), name="second"),
    path("ledger/contest", motions.ContestApi.as_view(), name="contest"),
    # A ticket number is url-safe base64, a slug: a path holding anything else (NUL) never reaches the database.
    path("ledger/tickets/<slug:number>", motions.TicketApi.as_view(), name="ticket"),
]

urlpatterns = [
    path("receipts/", views.receipts, name="receipts"),
    path("public/records.txt", views.records_txt, name="records-txt"),
    path("receipts.json", views.receipts_json, name="receipts-json"),
    path("api/", include((api, "api"))),
]
