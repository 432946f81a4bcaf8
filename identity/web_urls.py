from django.urls import path

from identity import views

app_name = "identity_pages"

urlpatterns = [
    path("identity/", views.page, name="page"),
    path("identity/propositions/<int:proposition_id>/vote/", views.vote, name="vote"),
]
