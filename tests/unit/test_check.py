"""The contract check's pure parts: the prober's output read back, and each verdict's words."""

from __future__ import annotations

from kfws.check import (
    PROBE_ORIGIN,
    CheckKind,
    HomeWrite,
    HttpAnswer,
    ProbeOutput,
    RunFacts,
    parse_probe,
    probe_command,
    sanitise_log,
    verdict,
)

PREFIX = "/notebook/kubeflow/check"
LISTEN_8888 = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
    "   0: 00000000:22B8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000\n"
)
LISTEN_8080_V6 = (
    "  sl  local_address                         remote_address                        st\n"
    "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 0\n"
)
OK_CORS = (
    "Connecting to 127.0.0.1:8888 (127.0.0.1:8888)\n"
    "  HTTP/1.1 200 OK\n"
    "  Server: TornadoServer/6.4\n"
    "  Content-Type: application/json\n"
    "  Access-Control-Allow-Origin: *\n"
    "  \n"
    "saving to '/dev/null'\n"
)
NOT_FOUND = (
    "Connecting to 127.0.0.1:8888 (127.0.0.1:8888)\n"
    "  HTTP/1.1 404 Not Found\n"
    "wget: server returned error: HTTP/1.1 404 Not Found\n"
)
REFUSED = (
    "Connecting to 127.0.0.1:8888 (127.0.0.1:8888)\n"
    "wget: can't connect to remote host (127.0.0.1): Connection refused\n"
)


def output(listen: str, **probes: str) -> str:
    parts = ["@@listen", listen.rstrip("\n")]
    for name, text in probes.items():
        parts += [f"@@probe {name.replace('_', '-')}", text.rstrip("\n")]
    return "\n".join([*parts, "@@end"]) + "\n"


def facts(text: str, kind: CheckKind = CheckKind.JUPYTER, **kw: object) -> RunFacts:
    return RunFacts(kind, PREFIX, 60.0, parse_probe(text), None, **kw)  # type: ignore[arg-type]


def test_parse_reads_listening_ports_statuses_headers_and_errors() -> None:
    text = output(LISTEN_8888 + LISTEN_8080_V6, kernels=OK_CORS, root=NOT_FOUND, other=REFUSED)
    probe = parse_probe(text)
    assert probe.complete
    assert probe.listening == (8080, 8888)
    assert probe.answers["kernels"] == HttpAnswer(
        200,
        {
            "server": "TornadoServer/6.4",
            "content-type": "application/json",
            "access-control-allow-origin": "*",
        },
    )
    assert probe.answers["root"].status == 404
    assert probe.answers["other"] == HttpAnswer(
        None, error="can't connect to remote host (127.0.0.1): Connection refused"
    )


def test_parse_takes_the_first_answer_of_a_followed_redirect() -> None:
    redirect = "  HTTP/1.1 302 Found\n  Location: /lab\n  HTTP/1.1 200 OK\n"
    assert parse_probe(output(LISTEN_8888, root=redirect)).answers["root"].status == 302


def test_parse_of_a_cut_off_or_hostile_output_is_incomplete_not_a_crash() -> None:
    cut = parse_probe("@@listen\n   0: zz:GG 0A\n@@probe kernels\n  HTTP/1.1 2")
    assert cut == ProbeOutput(False, (), {"kernels": HttpAnswer(None, error="HTTP/1.1 2")})
    assert parse_probe("\x1b[2J@@end@@\n@@probe\n").answers == {}


def test_a_good_jupyter_server_and_a_good_editor_pass() -> None:
    jupyter = output(
        LISTEN_8888, kernels=OK_CORS, kernels_same_origin=OK_CORS, kernels_unprefixed=NOT_FOUND
    )
    assert verdict(facts(jupyter, home=HomeWrite(True, "1000"))) == []
    editor = output(LISTEN_8888, root="  HTTP/1.0 302 Found\n  Location: /login\n")
    assert verdict(facts(editor, CheckKind.WEB, home=HomeWrite(True, "1000"))) == []


def test_ignoring_nb_prefix_is_named_with_the_flag_to_set() -> None:
    text = output(
        LISTEN_8888, kernels=NOT_FOUND, kernels_same_origin=NOT_FOUND, kernels_unprefixed=OK_CORS
    )
    assert verdict(facts(text)) == [
        "404 at /notebook/kubeflow/check/api/kernels: the server ignores NB_PREFIX (it answers "
        "at /api/kernels); set `--ServerApp.base_url=${NB_PREFIX}` in the start command"
    ]


def test_the_wrong_port_says_which_port_it_found() -> None:
    (message,) = verdict(facts(output(LISTEN_8080_V6)))
    assert message.startswith("nothing listens on 8888 after 60 s; it listens on 8080:")


def test_a_home_the_user_cannot_write_is_named_with_the_uid() -> None:
    text = output(LISTEN_8888, root="  HTTP/1.0 200 OK\n")
    home = HomeWrite(False, "1000", "Permission denied")
    (message,) = verdict(facts(text, CheckKind.WEB, home=home))
    assert message.startswith("cannot write /home/jovyan as uid 1000 (Permission denied):")


def test_a_container_that_exits_is_named_with_its_code() -> None:
    f = RunFacts(CheckKind.JUPYTER, PREFIX, 60.0, None, 127, seconds_to_exit=0.4)
    assert verdict(f)[0].startswith("the container exited after 0.4 s with code 127:")


def test_origin_problems_say_allow_origin() -> None:
    no_header = OK_CORS.replace("  Access-Control-Allow-Origin: *\n", "")
    text = output(LISTEN_8888, kernels=no_header, kernels_same_origin=no_header)
    assert "it sends no Access-Control-Allow-Origin" in verdict(facts(text))[0]
    refused = output(LISTEN_8888, kernels=NOT_FOUND, kernels_same_origin=OK_CORS)
    assert "only without an Origin header (404 with one)" in verdict(facts(refused))[0]
    assert "allow_origin='*'" in verdict(facts(refused))[0]


def test_token_redirect_and_other_statuses_have_their_own_words() -> None:
    forbidden = "  HTTP/1.1 403 Forbidden\n"
    text = output(LISTEN_8888, kernels=forbidden, kernels_same_origin=forbidden)
    assert verdict(facts(text))[0].startswith(
        "403 at /notebook/kubeflow/check/api/kernels: the server wants a token"
    )
    text = output(LISTEN_8888, kernels=REFUSED, kernels_same_origin=REFUSED)
    assert verdict(facts(text))[0].startswith(
        "no HTTP answer at /notebook/kubeflow/check/api/kernels"
    )
    assert verdict(facts(output(LISTEN_8888), CheckKind.WEB))[0].startswith("no HTTP answer at /")
    text = output(LISTEN_8888, root=NOT_FOUND)
    assert verdict(facts(text, CheckKind.WEB))[0].startswith("404 at /: Istio forwards")


def test_an_unfinished_probe_is_not_a_pass() -> None:
    assert verdict(facts("@@listen\n" + LISTEN_8888))[0].startswith("the check did not finish")


def test_probe_command_passes_values_as_arguments_not_script_text() -> None:
    cmd = probe_command(CheckKind.JUPYTER, "/notebook/a'; rm -rf /;'/b", 30)
    assert cmd[:2] == ["sh", "-c"] and "rm -rf" not in cmd[2]
    assert cmd[4:8] == ["30", "kernels", "/notebook/a'; rm -rf /;'/b/api/kernels", PROBE_ORIGIN]


def test_logs_are_sanitised() -> None:
    raw = (
        b"\x1b[32mstarting\x1b[0m\r\n"
        b"http://127.0.0.1:8888/lab?token=abc123secret\n"
        b"bell\x07 and \xff bytes\n" + b"x" * 500 + b"\n"
    )
    lines = sanitise_log(raw, lines=10, width=80)
    assert lines[0] == "starting"
    assert lines[1] == "http://127.0.0.1:8888/lab?token=***"
    assert lines[2] == "bell? and \ufffd bytes"
    assert len(lines[3]) == 80 and lines[3].endswith("…")
    assert sanitise_log("a\nb\nc\n", lines=2) == ["b", "c"]
