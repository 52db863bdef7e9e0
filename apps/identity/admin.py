from django.contrib import admin, messages

from . import server_keys, tokens
from .models import AuthProfile, Permission, ServerKey, SigningKey


@admin.register(AuthProfile)
class AuthProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "application", "uuid", "user_model", "access_token_lifetime",
                    "refresh_token_lifetime"]
    list_filter = ["application"]
    readonly_fields = ["uuid"]
    fields = ["application", "name", "uuid", "user_model", "username_property",
              "password_property", "roles_relation", "role_name_property",
              "access_token_lifetime", "refresh_token_lifetime", "refresh_grace_seconds"]


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ["application", "generation", "rotated_at"]
    readonly_fields = ["generation", "rotated_at"]
    actions = ["rotate"]

    @admin.action(description="Rotate the key (every JWT signed so far stops working)")
    def rotate(self, request, queryset):
        for key in queryset.select_related("application"):
            tokens.rotate_key(key.application)
        self.message_user(request, f"Rotated {queryset.count()} key(s).", messages.SUCCESS)


@admin.register(ServerKey)
class ServerKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "application", "prefix", "created_at", "expires_at", "revoked_at",
                    "last_used_at"]
    list_filter = ["application"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["application", "name", "prefix", "expires_at", "revoked_at", "created_at",
              "last_used_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        row, text = server_keys.create(obj.application, obj.name, obj.expires_at)
        obj.pk, obj.prefix, obj.key_hash = row.pk, row.prefix, row.key_hash
        self.message_user(request, f"The key (shown once, copy it now): {text}",
                          messages.WARNING)


@admin.register(Permission)
class PermissionAdmin(admin.ModelAdmin):
    list_display = ["data_model", "operation", "access", "roles", "condition"]
    list_filter = ["data_model__application", "operation", "access"]
