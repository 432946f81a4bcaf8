from django.urls import path

from ledger import views

app_name = "books"

urlpatterns = [
    path("public/records.txt", views.records_txt, name="records-txt"),
    path("receipts.json", views.receipts_json, name="receipts-json"),
]
