"""Load the demo data: customers, the three demo logins, and engagements in several states.

Idempotent: running it again changes nothing that is already there.
"""

import datetime
import subprocess
import sys
import tempfile
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from assessments.services import check_add_curve_from_log, check_set_score_baseline
from demo.simhost import FILES
from engagements import services
from engagements.models import (
    ChecklistItem,
    Customer,
    Engagement,
    MigrationModel,
    PerformanceBaseline,
    Risk,
    Stage,
    User,
)
from reports.quotes import check_build_from_plan

DEMO_PASSWORD = "ascend-demo-2026"  # noqa: S105 -- published demo password, documented in the README
DEMO_USERS = [
    # username, role, first name, last name, customer short name
    ("consultant", User.Role.CONSULTANT, "伟", "李", None),
    ("consultant2", User.Role.CONSULTANT, "敏", "王", None),
    ("pm", User.Role.PM, "静", "张", None),
    ("customer", User.Role.CUSTOMER, "强", "刘", "grid"),
    ("customer2", User.Role.CUSTOMER, "芳", "陈", "llm"),
]
GRID_PILOT = "Personnel safety risk recognition (YOLOv5)"
GRID_MODELS = [
    ("Personnel safety risk recognition (YOLOv5)", MigrationModel.TaskType.CV, "46 MB"),
    ("Equipment status detection (YOLOv8)", MigrationModel.TaskType.CV, "68 MB"),
    ("Defect detection (Faster R-CNN)", MigrationModel.TaskType.CV, "160 MB"),
    ("Meter reading OCR (CRNN)", MigrationModel.TaskType.CV, "32 MB"),
    ("Infrared hot-spot segmentation (U-Net)", MigrationModel.TaskType.CV, "120 MB"),
    ("Smoke and fire classification (ResNet-50)", MigrationModel.TaskType.CV, "98 MB"),
    ("Intrusion tracking (DeepSORT)", MigrationModel.TaskType.CV, "64 MB"),
    ("Switch state recognition (MobileNetV3)", MigrationModel.TaskType.CV, "22 MB"),
    ("Inspection report NER (BERT-base)", MigrationModel.TaskType.NLP, "110M parameters"),
    ("Work-order classification (RoBERTa)", MigrationModel.TaskType.NLP, "125M parameters"),
    ("Inspection image captioning (BLIP)", MigrationModel.TaskType.MULTIMODAL, "224M parameters"),
]


class Command(BaseCommand):
    help = "Load demo customers, users and engagements (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        customers = {
            "grid": self._customer("示例智能电力科技有限公司 Demo Smart Grid Co.", "grid"),
            "llm": self._customer("示例大模型科技有限公司 Demo LLM Tech Co.", "llm"),
        }
        users = {}
        for username, role, first, last, customer_key in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"role": role, "first_name": first, "last_name": last,
                          "customer": customers.get(customer_key), "email": f"{username}@example.com"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
            if role == User.Role.PM:
                # The demo PM also runs the admin (rate card, users, mappings).
                user.is_staff = user.is_superuser = True
            user.save()
            users[username] = user
        today = timezone.localdate()
        self._grid_engagement(customers["grid"], users, today)
        self._llm_engagement(customers["llm"], users, today)
        self._acceptance_and_quote(users["pm"])
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))

    def _customer(self, name: str, short: str) -> Customer:
        return Customer.objects.get_or_create(short_name=short, defaults={"name": name})[0]

    def _plan(self, engagement, start, durations_and_days, actor):
        day = start
        for stage, (weeks, person_days) in zip(engagement.ordered_stages(), durations_and_days, strict=False):
            end = day + datetime.timedelta(weeks=weeks) - datetime.timedelta(days=1)
            services.check_plan_stage(actor, stage, {"planned_start": day, "planned_end": end,
                                                     "planned_person_days": Decimal(person_days)})
            day = end + datetime.timedelta(days=1)

    def _at(self, date):
        """Ten in the morning of a date, for back-dated demo history."""
        return timezone.make_aware(datetime.datetime.combine(date, datetime.time(10)))

    def _finish_stage(self, stage, actor, log_dates, consultant, finished):
        services.do_transition_stage(actor, stage, Stage.Status.IN_PROGRESS, at=self._at(log_dates[0]))
        for date in log_dates:
            services.check_log_work(consultant, stage, date, "1", f"{stage.get_key_display()}: work on {date}")
        for item in stage.checklist.all():
            if item.required:
                services.check_set_checklist_item(actor, item, ChecklistItem.State.DONE)
        services.do_transition_stage(actor, stage, Stage.Status.DONE, at=self._at(finished))

    def _acceptance_and_quote(self, pm):
        """A GPU reference loss curve (a real fp32 run of the simulated host's training script)
        and a pre-migration score for the smart-grid engagement, so an NPU training job on the
        simulated host can be compared and reported; and a draft quote of the LLM plan."""
        grid = Engagement.objects.get(code="GRID-2026-001")
        if not grid.loss_curves.filter(platform="gpu").exists():
            run = subprocess.run([sys.executable, str(FILES / "train.py"), "--steps", "200", "--precision", "fp32",
                                  "--save-dir", tempfile.mkdtemp(prefix="demo-ckpt-")],
                                 capture_output=True, check=True)
            pilot = grid.migration_models.get(name=GRID_PILOT)
            check_add_curve_from_log(pm, grid, run.stdout, platform="gpu", label="4 x T4, fp32 (reference)",
                                     filename="t4-fp32.log", model=pilot)
            check_set_score_baseline(pm, grid, "inspection-val mAP@0.5", 86.4, model=pilot, threshold=2)
        llm = Engagement.objects.get(code="LLM-2026-002")
        if not llm.score_baselines.exists():
            check_set_score_baseline(pm, llm, "C-Eval", 72.0, model=llm.migration_models.get(), threshold=2)
        if not llm.quotes.exists():
            check_build_from_plan(pm, llm)

    def _grid_engagement(self, customer, users, today):
        if Engagement.objects.filter(code="GRID-2026-001").exists():
            return
        pm, consultant = users["pm"], users["consultant"]
        start = today - datetime.timedelta(weeks=5)
        engagement = services.check_create_engagement(pm, {
            "customer": customer, "code": "GRID-2026-001",
            "title": "变电站智能巡视模型迁移 Substation inspection models to Ascend",
            "contract_number": "HT-2026-0815", "source_platform": "4 x NVIDIA T4",
            "target_platform": "Atlas 800T A2, 8 x 910B", "target_framework": Engagement.Framework.PYTORCH,
            "start_date": start, "end_date": start + datetime.timedelta(weeks=18, days=-1), "pm": pm,
            "status": Engagement.Status.ACTIVE, "internal_notes": "Customer prefers weekly reports on Fridays.",
        }, consultants=[consultant, users["consultant2"]])
        for name, task_type, size in GRID_MODELS:
            # This phase accepts the pilot model; the other ten follow in phase 2 (contract annex B).
            MigrationModel.objects.create(
                engagement=engagement, name=name, task_type=task_type, size=size, scope=MigrationModel.Scope.TRAINING,
                source_repository="git.example.com/grid/" + name.split("(")[-1].rstrip(")").lower(),
                excluded_reason="" if name == GRID_PILOT else "Accepted in phase 2 (contract annex B), after the "
                                                              "YOLOv5 pilot. 二期验收（合同附件 B）。")
        PerformanceBaseline.objects.create(
            engagement=engagement, model=engagement.migration_models.get(name=GRID_PILOT),
            category=PerformanceBaseline.Category.TRAINING, metric="samples_per_s (images/s, YOLOv5 batch 32)",
            direction=PerformanceBaseline.Direction.HIGHER, value=Decimal("850"), unit="samples/s")
        engagement.test_method = (
            "Training: 200 steps of the pilot's training script on the same data order, fp32 on the GPUs and bf16 on "
            "the NPUs; loss compared from step 21. Evaluation: mAP@0.5 on the customer's 1,346-image inspection "
            "validation set. 训练：相同数据顺序 200 步；评估：客户巡检验证集 1,346 张图像 mAP@0.5。")
        engagement.reference_environment = "4 x NVIDIA T4 16 GB, CUDA 11.8, PyTorch 2.1.0, Ubuntu 22.04"
        engagement.save(update_fields=["test_method", "reference_environment"])
        self._plan(engagement, start, [(1, 5), (2, 4), (2, 6), (4, 30), (3, 20), (3, 18), (3, 14)], pm)
        stages = engagement.ordered_stages()
        days = [start + datetime.timedelta(days=d) for d in range(40)]
        self._finish_stage(stages[0], consultant, [days[d] for d in (0, 1, 2, 3, 6)], consultant, days[6])
        # The plan took three days longer than planned: a stage finished late.
        self._finish_stage(stages[1], consultant, [days[d] for d in (7, 8, 9, 10, 16)], consultant, days[16])
        env = stages[2]
        services.do_transition_stage(consultant, env, Stage.Status.IN_PROGRESS, at=self._at(days[17]))
        for d in (17, 20, 21):
            services.check_log_work(consultant, env, days[d], "1", "CANN 8.5.0 and driver install")
        first_items = list(env.checklist.all())[:3]
        for item in first_items:
            services.check_set_checklist_item(consultant, item, ChecklistItem.State.DONE)
        services.do_transition_stage(consultant, env, Stage.Status.BLOCKED,
                                     "Waiting for the customer to open the firewall to the Ascend mirror.",
                                     at=self._at(days[22]))
        for category, description, likelihood, impact, mitigation in [
            (Risk.Category.ENV_DEPENDENCIES, "mmcv 1.x has no NPU build; detection heads depend on it", 3, 3,
             "Port the two custom ops or switch to mmcv 2.x with torch_npu"),
            (Risk.Category.DATASET, "Inspection images cannot leave the customer's site", 2, 2,
             "Work on site through the customer's VPN"),
            (Risk.Category.NETWORK, "No internet access on the Ascend hosts", 3, 2,
             "Mirror pip and CANN packages internally"),
        ]:
            services.check_save_risk(consultant, engagement, {"category": category, "description": description,
                                                              "likelihood": likelihood, "impact": impact,
                                                              "mitigation": mitigation, "owner": consultant})

    def _llm_engagement(self, customer, users, today):
        if Engagement.objects.filter(code="LLM-2026-002").exists():
            return
        pm, consultant = users["pm"], users["consultant"]
        start = today - datetime.timedelta(weeks=1)
        engagement = services.check_create_engagement(pm, {
            "customer": customer, "code": "LLM-2026-002",
            "title": "Qwen-14B 推理迁移至 MindIE Qwen-14B inference on MindIE",
            "contract_number": "HT-2026-0902", "source_platform": "8 x A100 80GB",
            "target_platform": "Atlas 800I A2, 8 x 910B4", "target_framework": Engagement.Framework.MINDIE,
            "scope_training_migration": False, "start_date": start,
            "end_date": start + datetime.timedelta(weeks=9, days=-1), "pm": pm, "status": Engagement.Status.ACTIVE,
        }, consultants=[consultant])
        qwen = MigrationModel.objects.create(engagement=engagement, name="Qwen-14B-Chat",
                                             task_type=MigrationModel.TaskType.LLM, size="14B parameters",
                                             scope=MigrationModel.Scope.INFERENCE, precision="bf16")
        PerformanceBaseline.objects.create(engagement=engagement, model=qwen, metric="FirstTokenTime", unit="ms",
                                           direction=PerformanceBaseline.Direction.LOWER, value=Decimal("120"))
        PerformanceBaseline.objects.create(engagement=engagement, model=qwen, metric="GenerateSpeed", unit="tokens/s",
                                           direction=PerformanceBaseline.Direction.HIGHER, value=Decimal("300"))
        engagement.test_method = (
            "MindIE benchmark (client mode, concurrency 10) on 200 GSM8K prompts; C-Eval accuracy with the same "
            "prompt template as on the GPUs. MindIE 客户端模式、并发 10、200 条 GSM8K；C-Eval 与 GPU 同模板。")
        engagement.reference_environment = "8 x NVIDIA A100 80GB, vLLM 0.4.2, CUDA 12.1, fp16"
        engagement.save(update_fields=["test_method", "reference_environment"])
        self._plan(engagement, start, [(1, 3), (1, 2), (1, 3), (1, 0), (1, 0), (2, 10), (2, 8)], pm)
        survey = engagement.ordered_stages()[0]
        services.do_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS, at=self._at(start))
        services.check_log_work(consultant, survey, today - datetime.timedelta(days=1), "0.5",
                                "Collected model versions and the C-Eval baseline")
