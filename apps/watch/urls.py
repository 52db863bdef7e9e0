from django.urls import path

from . import views

urlpatterns = [
    path("<slug:slug>/watch", views.watch, name="watch"),
]
