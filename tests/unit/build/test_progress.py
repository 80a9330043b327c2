"""Reading buildctl's plain progress (kfws.build.progress)."""

from __future__ import annotations

from kfws.build.progress import StepTracker, failure, redact

OUTPUT = """\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#5 [2/3] RUN pip install -r req.txt
#5 0.512 Collecting numpy
#5 DONE 3.1s
#6 [3/3] COPY a /a
#6 CACHED
#9 exporting to image
#9 pushing layers 0.2s done
#10 [auth] team/nb:pull token for 127.0.0.1:5000
""".splitlines()


def test_one_progress_line_per_build_step() -> None:
    tracker = StepTracker()
    steps = [s for line in OUTPUT if (s := tracker.step(line))]
    assert steps == ["[2/3] RUN pip install -r req.txt", "[3/3] COPY a /a", "exporting to image"]


def test_the_last_error_line_is_the_reason() -> None:
    lines = [*OUTPUT, "ERROR: process did not complete", "error: failed to solve: exit code: 3"]
    assert failure(lines) == "failed to solve: exit code: 3"
    assert failure(OUTPUT) == "buildctl failed without saying why"


def test_secret_values_are_blanked_and_tiny_ones_too_if_asked() -> None:
    assert redact("#5 0.1 token=s3cr3t-value here", ["s3cr3t-value"]) == "#5 0.1 token=*** here"
    assert redact("nothing", ["", "other"]) == "nothing"
