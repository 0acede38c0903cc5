from django import template

from ..models import EnvSnapshot
from ..snapshots import diff_snapshots

register = template.Library()


@register.inclusion_tag("workers/partials/stage_environment.html")
def stage_environment(stage):
    """On the env_setup stage: the latest environment snapshot of each host this engagement
    probed, with what changed since that host's previous snapshot."""
    latest = {}
    for snapshot in (EnvSnapshot.objects.filter(job__engagement_id=stage.engagement_id)
                     .select_related("host", "job").order_by("-created_at")):
        latest.setdefault(snapshot.host_id, snapshot)
    rows = []
    for snapshot in latest.values():
        previous = (EnvSnapshot.objects.filter(host_id=snapshot.host_id, created_at__lt=snapshot.created_at)
                    .order_by("-created_at").first())
        rows.append({"snapshot": snapshot, "changes": diff_snapshots(previous.data, snapshot.data) if previous else {}})
    return {"rows": rows}
