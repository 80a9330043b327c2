"""Reading buildctl's plain progress (kfws.build.progress)."""

from __future__ import annotations

from kfws.build.progress import StepTracker, failure, push_refused, redact

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


# what buildctl printed in a CI run when the distribution registry refused one blob of a push
REFUSED_PUSH = """\
#12 exporting cache to registry
#12 DONE 0.4s
------
 > exporting to image:
------
error: failed to solve: failed to push 127.0.0.1:15001/why/nb:kfws1-9d6c: errors:
unknown: provided digest did not match uploaded content
unknown: blob unknown to registry - sha256:c3b7a64b43f1
""".splitlines()


def test_a_refused_blob_upload_is_told_apart_from_other_failures() -> None:
    assert push_refused(REFUSED_PUSH) == "provided digest did not match uploaded content"
    unknown_blob = [*REFUSED_PUSH[:-2], "unknown: blob unknown to registry - sha256:c3b7"]
    assert push_refused(unknown_blob) == "blob unknown to registry"


def test_other_push_failures_and_failed_steps_are_not_pushed_again() -> None:
    denied = [*REFUSED_PUSH[:-2], "denied: requested access to the resource is denied"]
    assert push_refused(denied) is None
    failed_step = [*OUTPUT, "error: failed to solve: process did not complete: exit code: 1"]
    assert push_refused(failed_step) is None
    # the registry's words only count after the last error line, not in a step's own output
    echoed = [*OUTPUT, "#5 0.6 blob unknown to registry", "error: failed to solve: exit code: 1"]
    assert push_refused(echoed) is None
    assert push_refused([]) is None
