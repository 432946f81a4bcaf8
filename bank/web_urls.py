from django.urls import path

from bank import views

app_name = "community"

urlpatterns = [
    path("", views.community_home, name="home"),
    path("login/", views.community_login, name="login"),
    path("register/", views.community_register, name="register"),
]
