"""Jobs in the browser: an env probe watched live to the end, and a training run cancelled."""

import pytest
from playwright.sync_api import expect

from workers.models import Job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LOG = "document.querySelector('[data-testid=\"job-log\"]')"


def open_jobs_page(sign_in, live_server, consultant, engagement, key):
    page = sign_in(consultant)
    stage = engagement.stages.get(key=key)
    page.goto(f"{live_server.url}/stages/{stage.uuid}/")
    page.click('[data-testid="stage-jobs"]')
    return page


def test_an_env_probe_is_watched_live_until_it_succeeds(sign_in, live_server, consultant, engagement, worker, sim_host):
    page = open_jobs_page(sign_in, live_server, consultant, engagement, "env_setup")
    page.select_option('select[name="kind"]', "env_probe")
    page.select_option('select[name="host"]', label=str(sim_host))
    page.click('[data-testid="start-job"]')
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator('[data-testid="job-log"]')).to_contain_text("910B3")
    expect(page.locator('[data-testid="npu-table"]')).to_contain_text("910B3")
    assert page.locator('[data-testid="job-progress"]').get_attribute("value") == "100"
    page.screenshot(path="/tmp/job_probe.png", full_page=True)


def test_a_running_training_job_is_cancelled_from_the_browser(sign_in, live_server, consultant, engagement, worker,
                                                              sim_host, simhost):
    page = open_jobs_page(sign_in, live_server, consultant, engagement, "training_tuning")
    page.select_option('select[name="kind"]', "training_run")
    page.select_option('select[name="host"]', label=str(sim_host))
    page.fill('input[name="command"]', f"python3 {simhost.root}/opt/train/train.py --steps 5000 --sleep 0.05")
    page.fill('input[name="workdir"]', "/tmp")
    page.click('[data-testid="start-job"]')
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Running", timeout=30_000)
    expect(page.locator('[data-testid="job-log"]')).to_contain_text("iteration", timeout=30_000)
    # The log box follows the newest lines as they come, until the reader scrolls up.
    page.wait_for_function(f"() => {{ const p = {LOG}; return p && p.scrollHeight > p.clientHeight + 200; }}",
                           timeout=60_000)
    page.wait_for_timeout(2500)  # at least one more poll
    assert page.evaluate(f"() => {{ const p = {LOG}; return p.scrollHeight - p.scrollTop - p.clientHeight; }}") < 24
    page.evaluate(f"() => {{ {LOG}.scrollTop = 40; }}")
    page.wait_for_timeout(2500)
    assert page.evaluate(f"() => {LOG}.scrollTop") == 40
    page.click('[data-testid="cancel-job"]')
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Cancelled", timeout=60_000)
    assert Job.objects.get().status == Job.Status.CANCELLED


def test_the_job_form_shows_only_the_chosen_kinds_fields(sign_in, live_server, consultant, engagement, worker,
                                                         sim_host):
    """Each kind declares its fields; choosing a kind swaps them in (the host chosen stays)."""
    from workers import kinds

    page = open_jobs_page(sign_in, live_server, consultant, engagement, "env_setup")
    page.wait_for_load_state("load")  # htmx has processed the form (it loads deferred)
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    page.select_option('select[name="host"]', label=str(sim_host))
    for kind in kinds.all_kinds():
        # Choosing the kind already shown would fetch the same form again, and a choice made
        # while that swap is in flight would be undone by it: only real changes are made.
        if page.locator('select[name="kind"]').input_value() != kind.key:
            page.select_option('select[name="kind"]', kind.key)
        # The form is fetched again for the kind (slow on a loaded machine: a generous wait).
        expect(page.locator(f'[data-testid="job-form"][data-kind="{kind.key}"]')).to_have_count(1, timeout=20_000)
        page.wait_for_load_state("networkidle")
        for name in ("command", "code_dir", "score_pattern", "loss_pattern", "checkpoint_dir", "timeout_s"):
            expect(page.locator(f'[data-testid="job-form"] [name="{name}"]')).to_have_count(
                1 if name in kind.fields else 0)
        expect(page.locator('select[name="host"]')).to_have_value(str(sim_host.pk))
    page.select_option('select[name="kind"]', "disk_check")
    expect(page.locator('[data-testid="job-form"][data-kind="disk_check"]')).to_have_count(1, timeout=20_000)
    page.wait_for_load_state("networkidle")
    expect(page.locator('[data-testid="job-form"] [name="command"]')).to_have_count(0)
    page.click('[data-testid="start-job"]')
    expect(page.locator('[data-testid="job-status"]')).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator('[data-testid="free-inodes"]')).to_contain_text("%")
    page.screenshot(path="/tmp/job_disk_check.png", full_page=True)
