"""A second process for the cross-process test: for each line `<app slug> <Model>` on stdin,
print the model's property names as JSON, read as a request would (freshness check included)."""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mortar.settings")
os.environ.setdefault("MORTAR_DEBUG", "1")
django.setup()

from models_registry.application_rows import current_application  # noqa: E402
from models_registry.runtime import runtime_models  # noqa: E402

for line in sys.stdin:
    slug, model_name = line.split()
    built = runtime_models(current_application(slug))
    fields = sorted(built[model_name]._mortar.properties)
    print(json.dumps({"fields": fields, "pid": os.getpid()}), flush=True)
