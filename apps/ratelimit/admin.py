"""The application page gains its rate limits: the three capacities, and the buckets as they
are now, refreshed every two seconds from /ops/ratelimits while the page is open."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from models_registry.admin import ApplicationAdmin as RegistryApplicationAdmin
from models_registry.models import Application

LIVE_TABLE = """
<table id="mortar-buckets" data-url="{url}">
  <thead><tr><th>bucket</th><th>capacity</th><th>remaining</th><th>full again in</th></tr>
  </thead><tbody><tr><td colspan="4">Reading…</td></tr></tbody>
</table>
<p id="mortar-buckets-refused"></p>
<script>
(function () {{
  const table = document.getElementById("mortar-buckets");
  const refused = document.getElementById("mortar-buckets-refused");
  function cell(text) {{ const td = document.createElement("td"); td.textContent = text;
                         return td; }}
  async function refresh() {{
    try {{
      const answer = await fetch(table.dataset.url, {{credentials: "same-origin"}});
      const body = await answer.json();
      if (!answer.ok) throw new Error(body.error || answer.statusText);
      const app = body.applications[0];
      const rows = app.buckets.map(b => {{
        const tr = document.createElement("tr");
        tr.append(cell(b.name), cell(b.capacity), cell(b.remaining),
                  cell(b.resetsInSeconds === null ? "not started"
                       : Math.ceil(b.resetsInSeconds) + " s"));
        return tr;
      }});
      table.tBodies[0].replaceChildren(...rows);
      refused.textContent = app.refusedLastHour + " requests refused in the last hour.";
    }} catch (error) {{
      refused.textContent = "Bucket levels unavailable: " + error.message;
    }}
  }}
  refresh();
  setInterval(refresh, 2000);
}})();
</script>
"""

admin.site.unregister(Application)


@admin.register(Application)
class ApplicationAdmin(RegistryApplicationAdmin):
    fieldsets = [
        *RegistryApplicationAdmin.fieldsets,
        ("Rate limits", {
            "fields": [("rate_limit_minute", "rate_limit_hour", "rate_limit_day"),
                       "buckets_now"],
            "description": "Every API request takes a token from the minute bucket, then the "
                           "hour's, then the day's; when all are empty it gets 429. Sandbox "
                           "applications get half of each capacity.",
        }),
    ]
    readonly_fields = [*RegistryApplicationAdmin.readonly_fields, "buckets_now"]

    @admin.display(description="buckets now")
    def buckets_now(self, application: Application) -> str:
        if application.pk is None:
            return "Save the application first."
        url = reverse("ops-ratelimits") + f"?app={application.slug}"
        return format_html(LIVE_TABLE, url=url)
