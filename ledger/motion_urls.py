from django.urls import path

from ledger import motion_apis

app_name = "ledger-motions"

urlpatterns = [
    path("audit", motion_apis.AuditApi.as_view(), name="audit"),
    path("resolve", motion_apis.ResolveApi.as_view(), name="resolve"),
    path("second", motion_apis.SecondApi.as_view(), name="second"),
    path("contest", motion_apis.ContestApi.as_view(), name="contest"),
    # A ticket number is url-safe base64, a slug: a path holding anything else (NUL) never reaches the database.
    path("tickets/<slug:number>", motion_apis.TicketApi.as_view(), name="ticket"),
]
