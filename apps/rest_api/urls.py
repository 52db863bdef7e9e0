from django.urls import path

from . import views

urlpatterns = [
    path("<slug:slug>/rest/openapi.json", views.openapi, name="rest-openapi"),
    path("<slug:slug>/rest/<path:path>", views.endpoint, name="rest-endpoint"),
]
