"""The survey stage in the browser: the customer's contact fills in the model information
questionnaire; a consultant accepts it, and handles an analysis's findings in bulk."""

import pytest
from playwright.sync_api import expect

from assessments import findings as identity
from assessments.models import Finding, MigrationAnalysis
from engagements import questionnaire
from engagements.models import MigrationModel, Questionnaire

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_contact_fills_in_the_questionnaire_and_the_consultant_accepts_it(sign_in, live_server, engagement,
                                                                             consultant, contact, page):
    sent = questionnaire.check_start(consultant, engagement)
    questionnaire.check_send(consultant, sent)

    sign_in(contact)
    page.click(f"text={engagement.code}")
    page.click('[data-testid="questionnaire-link"]')
    expect(page.locator('[data-testid="questionnaire-status"]')).to_contain_text("Sent to the customer")
    page.fill("#id_q-business_scenario", "Invoice OCR for the finance department")
    page.fill("#id_q-precision_baseline", "Field accuracy 97.1% on 2,000 invoices")
    page.select_option("#id_q-inference_route", "offline")
    page.fill("#id_models-0-name", "PP-OCRv4")
    page.select_option("#id_models-0-task_type", "cv")
    page.select_option("#id_models-0-scope", "inference")
    page.fill("#id_models-0-source_hardware", "2 x NVIDIA T4")
    page.fill("#id_models-0-weights", "/models/ppocr (paddle inference)")
    page.click('[data-testid="questionnaire-submit"]')
    expect(page.locator('[data-testid="questionnaire-status"]')).to_contain_text("Filled in")
    assert page.dialogs and "Submit the questionnaire?" in page.dialogs[-1]
    expect(page.locator('[data-testid="model-row"]')).to_contain_text("PP-OCRv4")
    expect(page.locator('[data-testid="questionnaire-form"]')).to_have_count(0)  # with the provider now

    page.click("text=Sign out")
    sign_in(consultant)
    page.goto(f"{live_server.url}/engagements/{engagement.uuid}/questionnaire/")
    page.click('[data-testid="questionnaire-accept"]')
    expect(page.locator('[data-testid="questionnaire-status"]')).to_contain_text("Accepted")
    model = MigrationModel.objects.get(engagement=engagement, name="PP-OCRv4")
    assert (model.scope, model.source_hardware, model.weights) == ("inference", "2 x NVIDIA T4",
                                                                   "/models/ppocr (paddle inference)")
    assert Questionnaire.objects.get(pk=sent.pk).status == Questionnaire.Status.ACCEPTED


def test_a_consultant_handles_findings_in_bulk_over_a_filter(sign_in, live_server, engagement, consultant, page):
    analysis = MigrationAnalysis.objects.create(engagement=engagement, code_dir="/data/project", files_scanned=3)
    rows = [Finding(analysis=analysis, source="scanner", category=category, fix="manual", file=file, line=line,
                    api=api)
            for category, file, line, api in [("cuda_api", "train.py", 12, "torch.cuda.synchronize"),
                                              ("cuda_api", "train.py", 40, "torch.cuda.synchronize"),
                                              ("third_party", "model.py", 3, "apex.amp")]]
    identity.identify(rows)
    Finding.objects.bulk_create(rows)

    sign_in(consultant)
    page.goto(f"{live_server.url}/engagements/{engagement.uuid}/analyses/{analysis.pk}/?category=cuda_api")
    form = page.locator('[data-testid="bulk-resolve"]')
    form.locator('select[name="resolution"]').select_option("not_needed")
    form.locator('input[name="note"]').fill("Only called in the benchmark script")
    page.click('[data-testid="bulk-resolve-submit"]')
    selects = page.locator('[data-testid="findings"] select[name="resolution"]')
    expect(selects).to_have_count(2)
    for index in range(2):
        expect(selects.nth(index)).to_have_value("not_needed")
    handled = dict(analysis.findings.values_list("line", "resolution"))
    assert handled == {12: "not_needed", 40: "not_needed", 3: "open"}  # the filter's two, not the third


def test_the_findings_list_fits_a_1366_pixel_window(sign_in, live_server, engagement, consultant, page):
    analysis = MigrationAnalysis.objects.create(engagement=engagement, code_dir="/data/project", files_scanned=1)
    long_path = "detectron2/modeling/roi_heads/cascade_rcnn/" + "very_long_module_name_" * 4 + ".py"
    rows = [Finding(analysis=analysis, source="scanner", category="unsupported_api", fix="manual", file=long_path,
                    line=line, api="torch.nn.functional.grid_sample_with_a_long_name_" * 2,
                    message="Not supported on Ascend for torch 2.1: replace it or port it. " * 4)
            for line in range(1, 6)]
    identity.identify(rows)
    Finding.objects.bulk_create(rows)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(consultant)
    page.goto(f"{live_server.url}/engagements/{engagement.uuid}/analyses/{analysis.pk}/")
    widths = page.evaluate("""() => ({page: document.documentElement.scrollWidth, window: window.innerWidth,
        table: document.querySelector('[data-testid=findings]').getBoundingClientRect().width})""")
    assert widths["page"] <= widths["window"], widths
    assert widths["table"] <= 1366, widths
