from django.urls import path

from . import uploads, views

urlpatterns = [
    path("<slug:slug>/graphql", views.graphql, name="data-api"),
    path("<slug:slug>/files", uploads.upload, name="data-api-files"),
]
