"""Mortar's stylesheet for admin pages: ModelAdmins that mix in AdminStyle load it."""


class AdminStyle:
    """Loads models_registry/admin.css (number boxes wide enough for whole numbers)."""

    class Media:
        css = {"all": ["models_registry/admin.css"]}
