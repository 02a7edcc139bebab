"""The report's per-task provenance: judge, sampling spec, endpoints, dataset revision, failures;
whatever a results file lacks is simply left out."""

from __future__ import annotations

from lmms_eval.report.html import ReportRun, render_report, task_provenance_cell

RESULTS = {
    "results": {"vqa": {"alias": "vqa", "acc,none": 0.5}, "plain": {"alias": "plain"}},
    "configs": {"vqa": {"dataset_path": "org/vqa", "dataset_name": "val", "dataset_kwargs": {"revision": "abc123"}}},
    "media_sampling": {"vqa": {"max_frames_num": 8, "fps": 1.0}},
    "judges": {"vqa": {"model": "gpt-judge", "backend": "openai", "endpoint": "http://127.0.0.1:9/v1", "prompt_template_hash": "f00d",
                       "calls": 12, "failures": 2, "retries": 1, "temperature": 0.0}},
    "requests": {"vqa": {"total": 10, "failed": 1, "failure_kinds": {"timeout": 1}, "endpoints": {"http://a/v1": 6, "http://b/v1": 4}}},
}


def test_every_recorded_fact_is_rendered():
    cell = task_provenance_cell(RESULTS, "vqa")
    for text in ("org/vqa val", "abc123", "max_frames_num&quot;: 8", "gpt-judge", "prompt_template_hash&quot;: &quot;f00d",
                 "calls&quot;: 12", "failures&quot;: 2", "http://a/v1&quot;: 6", "10 sent, 1 failed", "timeout&quot;: 1"):
        assert text in cell, text
    assert "temperature" not in cell  # the judge summary keeps who judged and how it went


def test_absent_facts_are_left_out():
    assert task_provenance_cell(RESULTS, "plain") == ""
    assert task_provenance_cell({"results": {}}, "vqa") == ""
    page = render_report([ReportRun("a", RESULTS), ReportRun("b", {"results": {"vqa": {"alias": "vqa"}}})])
    table = page.split("<table class=taskprov>")[1].split("</table>")[0]
    assert table.count("<tr>") == 3 and table.count("data-fact=judge") == 1  # header, vqa, plain; only run a has a judge
