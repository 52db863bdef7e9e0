from django.urls import path

from . import views

urlpatterns = [
    path("<slug:slug>/graphql", views.graphql, name="data-api"),
    path("<slug:slug>/files", views.upload, name="data-api-files"),
    path("<slug:slug>/files/<path:path>", views.stored_file, name="data-api-file"),
]
