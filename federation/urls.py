from django.urls import path

from federation import views

app_name = "federation"
urlpatterns = [
    path(".well-known/trustbank.json", views.well_known, name="well-known"),
    path("remotes", views.remotes, name="remotes"),
]
