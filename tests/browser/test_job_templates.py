"""Jobs in the browser, again and again: re-running a finished job from its page, saving the
form as a template and launching it in one click, and the live loss chart of a training run on
the simulated host (with its divergence warning on a run made to diverge)."""

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.conftest import make_curve
from workers import jobs
from workers.models import Job, JobTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A training script printing Megatron-style loss lines slowly: the reference curve times 1.004,
# and from step ``D`` on, drifting away by one more per cent every step.
TRAIN = ("python3 -c 'import math,time; T={steps}; D={diverge_at}; [(print(\" iteration %d/%d | lm loss: %.6E |\" "
         "% (s, T, (3*math.exp(-s/60)+1.2)*(1.004 if s<D else 1.004+0.01*(s-D))), flush=True), time.sleep({sleep})) "
         "for s in range(1,T+1)]'")


def jobs_page(page, live_server, stage):
    page.goto(f"{live_server.url}/stages/{stage.uuid}/jobs/")
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")


def test_a_finished_job_is_run_again_from_its_page(sign_in, live_server, consultant, engagement, worker, sim_host,
                                                   simhost):
    stage = engagement.stages.get(key="training_tuning")
    command = f"python3 {simhost.root}/opt/train/evaluate.py --dataset ceval --score 81.25"
    first = jobs.check_start_job(consultant, stage, sim_host, "evaluation",
                                 {"command": command, "dataset": "ceval", "timeout_s": 120})
    page = sign_in(consultant)
    page.goto(f"{live_server.url}/jobs/{first.uuid}/")
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Succeeded", timeout=60_000)
    # The button appears with the final poll, without reloading the page.
    page.click('[data-testid="rerun-job"]')
    expect(page.locator('[data-testid="rerun-source"]')).to_be_visible()
    expect(page.locator('select[name="kind"]')).to_have_value("evaluation")
    expect(page.locator('select[name="host"]')).to_have_value(str(sim_host.pk))
    expect(page.locator('[data-testid="job-form"] [name="command"]')).to_have_value(command)
    expect(page.locator('[data-testid="job-form"] [name="dataset"]')).to_have_value("ceval")
    expect(page.locator('[data-testid="job-form"] [name="timeout_s"]')).to_have_value("120")
    page.fill('[data-testid="job-form"] [name="command"]', command.replace("81.25", "82.5"))  # changed before starting
    page.click('[data-testid="start-job"]')
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Succeeded", timeout=60_000)
    second = Job.objects.exclude(pk=first.pk).get()
    assert (second.kind, second.host_id, second.parameters["timeout_s"]) == ("evaluation", sim_host.pk, 120)
    assert second.result["score"] == 82.5


def test_a_template_is_saved_from_the_form_and_launched_in_one_click(sign_in, live_server, consultant, engagement,
                                                                     worker, sim_host):
    stage = engagement.stages.get(key="env_setup")
    page = sign_in(consultant)
    jobs_page(page, live_server, stage)
    page.select_option('select[name="kind"]', "disk_check")
    expect(page.locator('[data-testid="job-form"][data-kind="disk_check"]')).to_have_count(1, timeout=20_000)
    page.wait_for_load_state("networkidle")
    page.select_option('select[name="host"]', label=str(sim_host))
    page.fill('input[name="template_name"]', "磁盘检查 disk check")
    with page.expect_navigation(timeout=30_000):
        page.click('[data-testid="save-template"]')
    row = page.locator('[data-testid="job-template"]', has_text="磁盘检查 disk check")
    expect(row).to_have_count(1, timeout=20_000)
    assert not Job.objects.exists()
    row.locator('[data-testid="launch-template"]').click()
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator('[data-testid="free-inodes"]')).to_contain_text("%")
    job = Job.objects.get()
    assert (job.kind, job.host_id, job.stage_id) == ("disk_check", sim_host.pk, stage.pk)
    assert JobTemplate.objects.get().name == "磁盘检查 disk check"


def start_training(page, live_server, stage, sim_host, command):
    jobs_page(page, live_server, stage)
    page.select_option('select[name="kind"]', "training_run")
    expect(page.locator('[data-testid="job-form"][data-kind="training_run"]')).to_have_count(1, timeout=20_000)
    page.wait_for_load_state("networkidle")
    page.select_option('select[name="host"]', label=str(sim_host))
    page.fill('input[name="command"]', command)
    page.fill('input[name="workdir"]', "/tmp")
    page.click('[data-testid="start-job"]')
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Running", timeout=30_000)


def points(page) -> int:
    return int(page.locator('[data-testid="live-chart"]').get_attribute("data-points") or 0)


def test_the_live_loss_chart_draws_while_training_runs_and_warns_when_it_diverges(sign_in, live_server, consultant,
                                                                                 engagement, worker, sim_host):
    steps = np.arange(1, 401)
    make_curve(engagement, "gpu", 3.0 * np.exp(-steps / 60) + 1.2, "A100 fp32 reference", consultant)
    stage = engagement.stages.get(key="training_tuning")
    page = sign_in(consultant)

    # A run that follows the reference: the curve grows poll by poll, with no warning.
    csp = []
    page.on("console", lambda message: csp.append(message.text) if "Content Security Policy" in message.text else None)
    start_training(page, live_server, stage, sim_host, TRAIN.format(steps=400, diverge_at=10_000, sleep=0.05))
    chart = page.locator('[data-testid="live-chart"]')
    # Drawn with dygraphs (canvas): the NPU curve and the reference, the error and the threshold
    # beneath; the server's SVG is the fallback, hidden once the graph is drawn.
    expect(chart.locator("[data-dygraph] .dygraph-charts canvas").first).to_be_visible(timeout=30_000)
    expect(chart.locator("[data-dygraph]")).to_have_attribute("data-drawn-series", "4", timeout=30_000)
    expect(chart.locator(".chart-legend").first).to_contain_text("GPU reference")
    expect(chart.locator("[data-dygraph-fallback]")).to_be_hidden()
    page.wait_for_function("() => +document.querySelector('[data-testid=\"live-chart\"]').dataset.points > 60",
                           timeout=60_000)
    first = points(page)
    drawn = int(chart.locator("[data-dygraph]").get_attribute("data-drawn-points"))
    page.evaluate("() => { window.liveGraph = "
                  "document.querySelector('[data-testid=\"live-chart\"] .dygraph-charts'); }")
    page.wait_for_function(f"() => +document.querySelector('[data-testid=\"live-chart\"]').dataset.points > {first}",
                           timeout=30_000)
    # The graph drew the new points in place: the same graph, moved into each new fragment, not drawn anew.
    page.wait_for_function(f"() => +document.querySelector('[data-testid=\"live-chart\"] [data-dygraph]')"
                           f".dataset.drawnPoints > {drawn}", timeout=30_000)
    assert page.evaluate("() => document.querySelector('[data-testid=\"live-chart\"] .dygraph-charts') === "
                         "window.liveGraph")
    assert page.locator('[data-testid="live-chart"] .dygraph-charts').count() == 1
    assert not csp, csp
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Running")
    expect(page.locator('[data-testid="live-mre"]')).to_have_text("0.40%")
    expect(page.locator('[data-testid="live-warning"]')).to_have_count(0)
    page.screenshot(path="/tmp/live_chart_matching.png", full_page=True)
    page.click('[data-testid="cancel-job"]')
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Cancelled", timeout=60_000)

    # A run made to diverge from step 60: warned while it still runs, so it can be stopped.
    start_training(page, live_server, stage, sim_host, TRAIN.format(steps=2000, diverge_at=60, sleep=0.05))
    expect(page.locator('[data-testid="live-warning"]')).to_contain_text("Diverging", timeout=60_000)
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Running")
    page.screenshot(path="/tmp/live_chart_diverging.png", full_page=True)
    page.click('[data-testid="cancel-job"]')
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Cancelled", timeout=60_000)
