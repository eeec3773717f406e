"""Issue 24: the engineering project's 招标项目类型 (industry, domain/provincial/spec.py TENDER_PROJECT_TYPE_CODES),
sent to the provincial platform as TENDER_PROJECT_TYPE; null for other trades and for every project made before."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0052_worker_cost")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.AddField(model_name="Project", name="industry", field=fields.CharField(max_length=3, null=True)),
    ]
