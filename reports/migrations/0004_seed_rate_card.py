"""The rate card of the seeds (DOMAIN.md "Pricing"), with default rates to adjust in the
admin, and the default stage-to-service mapping used to quote an engagement's plan."""

import datetime
from decimal import Decimal

from django.db import migrations

ITEMS = [
    # code, category, English, Chinese, default rate (yuan per person-day)
    ("survey-assessment", "migration", "Migration survey and assessment", "模型迁移调研评估", "3500"),
    ("environment-deployment", "migration", "Environment deployment", "环境部署搭建", "3000"),
    ("third-party-adaptation", "migration", "Third-party library adaptation", "三方库适配", "3800"),
    ("inference-migration", "migration", "Inference migration", "推理迁移", "3800"),
    ("performance-analysis", "tuning", "Performance evaluation and analysis", "性能评估分析", "4200"),
    ("precision-analysis", "tuning", "Precision comparison analysis", "精度对比分析", "4200"),
    ("inference-framework-optimisation", "tuning", "Inference framework optimisation", "推理框架优化", "4500"),
    ("data-processing-optimisation", "tuning", "Data-processing optimisation", "数据处理优化", "3800"),
    ("industry-llm-adaptation", "industry", "Industry large-model adaptation", "行业大模型适配服务", "5000"),
    ("migration-optimisation", "optimisation", "Ascend model migration optimisation", "昇腾模型迁移优化服务", "4500"),
]
MAPPING = {
    "survey": "survey-assessment", "plan": "survey-assessment", "env_setup": "environment-deployment",
    "training_adaptation": "third-party-adaptation", "training_tuning": "precision-analysis",
    "inference_migration": "inference-migration", "inference_tuning": "inference-framework-optimisation",
}


def seed(apps, schema_editor):
    RateCardItem = apps.get_model("reports", "RateCardItem")
    StageServiceMapping = apps.get_model("reports", "StageServiceMapping")
    for position, (code, category, en, zh, rate) in enumerate(ITEMS, start=1):
        RateCardItem.objects.get_or_create(code=code, valid_from=datetime.date(2026, 1, 1), defaults={
            "category": category, "name_en": en, "name_zh": zh, "rate": Decimal(rate), "position": position})
    for stage_key, code in MAPPING.items():
        StageServiceMapping.objects.get_or_create(stage_key=stage_key, defaults={"item_code": code})


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_stageservicemapping_quote_cloudline_quoteevent_and_more")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
