"""The Kubeflow notebook-image contract (pure): what a check probes, how to read the prober's
output, and the verdict as messages a user can act on. Running the containers is
kfws.observe.contract's job; nothing here does I/O.

The contract is what the notebook controller and the dashboard need of an image (kubeflow-facts):
the server listens on 8888; a Jupyter server answers under NB_PREFIX (the culler polls
`${NB_PREFIX}/api/kernels`) and lets the dashboard's iframe in (Access-Control-Allow-Origin);
VS Code / RStudio servers answer `/` (Istio rewrites the prefix away); and the server's user can
write its home volume.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from kfws.spec.model import Spec

PORT = 8888
HOME = "/home/jovyan"
# Bumped when what a check proves changes: remembered passes of older checks no longer count.
CHECK_VERSION = 1
# The dashboard's origin as the iframe sends it; any origin must be allowed (allow_origin='*').
PROBE_ORIGIN = "http://kubeflow-dashboard.kfws-check.invalid"
DEFAULT_TIMEOUT = 60.0
LOG_LINES = 15


class CheckKind(Enum):
    JUPYTER = "jupyter"  # the `image` group
    WEB = "web"  # imageGroupOne (VS Code) and imageGroupTwo (RStudio)

    @property
    def title(self) -> str:
        return "Jupyter" if self is CheckKind.JUPYTER else "VS Code / RStudio"


def nb_prefix(namespace: str, name: str) -> str:
    return f"/notebook/{namespace}/{name}"


def offered_kinds(spec: Spec) -> dict[str, tuple[CheckKind, ...]]:
    """Managed image name -> the contract kinds the targets offering it need, in a stable
    order (kfws.targets.dispatch.declared_offers)."""
    from kfws.targets.dispatch import declared_offers

    names = {i.name for i in spec.images}
    kinds: dict[str, set[CheckKind]] = {}
    for offer in declared_offers(spec):
        if offer.image in names:
            kinds.setdefault(offer.image, set()).add(
                CheckKind.JUPYTER if offer.jupyter else CheckKind.WEB
            )
    order = list(CheckKind)
    return {n: tuple(sorted(k, key=order.index)) for n, k in sorted(kinds.items())}


def cache_key(digest: str, kind: CheckKind) -> str:
    return f"{digest} {kind.value} v{CHECK_VERSION}"


# -- the prober ---------------------------------------------------------------------------------

# Runs in a second container sharing the checked container's network namespace (so no port is
# published and a remote engine works): waits until something listens on 8888 (read from the
# namespace's /proc/net/tcp*), then makes the HTTP requests with busybox-compatible wget and prints
# everything between @@ markers for parse_probe(). Values arrive as positional arguments, never
# pasted into the script.
PROBE_SCRIPT = r"""
timeout=$1; shift
end=$(( $(date +%s) + timeout ))
while ! grep -qE ':22B8 [0-9A-F]+:0000 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
  [ "$(date +%s)" -ge "$end" ] && break
  sleep 0.2
done
echo "@@listen"
cat /proc/net/tcp /proc/net/tcp6 2>/dev/null
while [ $# -ge 3 ]; do
  echo "@@probe $1"
  if [ -n "$3" ]; then
    timeout 20 wget -S -O /dev/null --header "Origin: $3" "http://127.0.0.1:8888$2" 2>&1
  else
    timeout 20 wget -S -O /dev/null "http://127.0.0.1:8888$2" 2>&1
  fi
  shift 3
done
echo "@@end"
"""


@dataclass(frozen=True)
class Probe:
    name: str
    path: str
    origin: str = ""


def probes(kind: CheckKind, prefix: str) -> tuple[Probe, ...]:
    if kind is CheckKind.WEB:
        return (Probe("root", "/"),)
    return (
        Probe("kernels", f"{prefix}/api/kernels", PROBE_ORIGIN),
        Probe("kernels-same-origin", f"{prefix}/api/kernels"),
        Probe("kernels-unprefixed", "/api/kernels"),
    )


def probe_command(kind: CheckKind, prefix: str, timeout: float) -> list[str]:
    args = [str(max(1, int(timeout)))]
    for p in probes(kind, prefix):
        args += [p.name, p.path, p.origin]
    return ["sh", "-c", PROBE_SCRIPT, "kfws-probe", *args]


@dataclass(frozen=True)
class HttpAnswer:
    status: int | None  # None: no HTTP answer (refused, reset, timed out)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    error: str = ""  # wget's complaint when there was no answer


@dataclass(frozen=True)
class ProbeOutput:
    complete: bool  # the prober reached its end
    listening: tuple[int, ...]  # TCP ports listening in the namespace, sorted
    answers: Mapping[str, HttpAnswer]


_STATUS = re.compile(r"^\s*HTTP/\d(?:\.\d)?\s+(\d{3})\b")
_HEADER = re.compile(r"^\s+([A-Za-z0-9-]+):\s?(.*)$")
_LISTEN = re.compile(r"^\s*\d+:\s+[0-9A-Fa-f]+:([0-9A-Fa-f]{4})\s+[0-9A-Fa-f]+:0000\s+0A\b")


def parse_probe(text: str) -> ProbeOutput:
    """Reads the prober's output. Hostile-safe: anything unrecognised is ignored."""
    listening: set[int] = set()
    answers: dict[str, HttpAnswer] = {}
    section, name = "", ""
    lines: list[str] = []
    complete = False

    def close() -> None:
        if section == "probe" and name:
            answers[name] = _answer(lines)

    for line in text.splitlines():
        if line.startswith("@@"):
            close()
            word, _, rest = line[2:].partition(" ")
            section, name, lines = word, rest.strip(), []
            complete = complete or word == "end"
            continue
        if section == "listen":
            m = _LISTEN.match(line)
            if m:
                listening.add(int(m.group(1), 16))
        elif section == "probe":
            lines.append(line)
    close()
    return ProbeOutput(complete, tuple(sorted(listening)), answers)


def _answer(lines: list[str]) -> HttpAnswer:
    status: int | None = None
    headers: dict[str, str] = {}
    for line in lines:
        m = _STATUS.match(line)
        if m:
            if status is not None:
                break  # a redirect was followed: the first answer is the one that counts
            status = int(m.group(1))
            continue
        h = _HEADER.match(line)
        if status is not None and h:
            headers.setdefault(h.group(1).lower(), h.group(2).strip())
    if status is not None:
        return HttpAnswer(status, headers)
    errors = [t.strip() for t in lines if t.strip().startswith("wget:")]
    said = [t.strip() for t in lines if t.strip() and not t.startswith("Connecting to")]
    if errors:
        return HttpAnswer(None, error=errors[-1].removeprefix("wget:").strip()[:200])
    return HttpAnswer(None, error=said[-1][:200] if said else "")


# -- the verdict --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeWrite:
    ok: bool
    uid: str  # as `id -u` printed it inside the container ("?" when unknown)
    detail: str = ""


@dataclass(frozen=True)
class RunFacts:
    """What running the image showed; built by kfws.observe.contract."""

    kind: CheckKind
    prefix: str
    timeout: float
    probe: ProbeOutput | None  # None: the prober never ran (the container had already exited)
    exit_code: int | None  # the checked container's exit code if it stopped
    seconds_to_exit: float | None = None
    home: HomeWrite | None = None  # None: not tested (the server never came up)


def verdict(facts: RunFacts) -> list[str]:
    """The failures, each naming the broken item and what to do; [] means the image passed."""
    if facts.exit_code is not None:
        when = f" after {facts.seconds_to_exit:.1f} s" if facts.seconds_to_exit is not None else ""
        return [
            f"the container exited{when} with code {facts.exit_code}: a notebook image must keep "
            f"its server running on {PORT}; see its log below (ENTRYPOINT/CMD)"
        ]
    probe = facts.probe
    if probe is None or not probe.complete:
        return [f"the check did not finish within {facts.timeout:.0f} s (the prober was cut off)"]
    failures: list[str] = []
    if PORT not in probe.listening:
        others = ", ".join(str(p) for p in probe.listening)
        where = f"; it listens on {others}" if others else ""
        return [
            f"nothing listens on {PORT} after {facts.timeout:.0f} s{where}: Kubeflow sends "
            f"traffic to port {PORT}; start the server there (e.g. `--ServerApp.port={PORT}`, "
            f"bound to 0.0.0.0)"
        ]
    if facts.kind is CheckKind.JUPYTER:
        failures += _jupyter(probe.answers, facts.prefix)
    else:
        failures += _web(probe.answers)
    if facts.home is not None and not facts.home.ok:
        detail = f" ({facts.home.detail})" if facts.home.detail else ""
        failures.append(
            f"cannot write {HOME} as uid {facts.home.uid}{detail}: Kubeflow mounts the user's "
            f"volume there; make {HOME} owned by the user the server runs as (uid 1000, "
            "`chown -R 1000:100 /home/jovyan`) and run as that user"
        )
    return failures


def _missing(name: str, answers: Mapping[str, HttpAnswer]) -> HttpAnswer:
    return answers.get(name) or HttpAnswer(None, error="not probed")


def _jupyter(answers: Mapping[str, HttpAnswer], prefix: str) -> list[str]:
    url = f"{prefix}/api/kernels"
    cross = _missing("kernels", answers)
    same = _missing("kernels-same-origin", answers)
    plain = _missing("kernels-unprefixed", answers)
    if cross.status == 200:
        allowed = cross.headers.get("access-control-allow-origin", "")
        if allowed in ("*", PROBE_ORIGIN):
            return []
        got = f"it sends {allowed!r}" if allowed else "it sends no Access-Control-Allow-Origin"
        return [
            f"{url} answers 200 but does not allow the dashboard's origin ({got}): the "
            "dashboard shows the notebook in an iframe; set `--ServerApp.allow_origin='*'`"
        ]
    if same.status == 200:
        return [
            f"{url} answers 200 only without an Origin header ({_said(cross)} with one): the "
            "server refuses the dashboard's iframe; set `--ServerApp.allow_origin='*'`"
        ]
    if same.status is None:
        return [f"no HTTP answer at {url} on {PORT} ({same.error or 'no answer'})"]
    if same.status == 404 and plain.status == 200:
        return [
            f"404 at {url}: the server ignores NB_PREFIX (it answers at /api/kernels); "
            "set `--ServerApp.base_url=${NB_PREFIX}` in the start command"
        ]
    if same.status in (401, 403):
        return [
            f"{same.status} at {url}: the server wants a token or password; Kubeflow "
            "authenticates in front of it: set `--IdentityProvider.token=''` and "
            "`--ServerApp.password=''`"
        ]
    if same.status in (301, 302, 303, 307, 308):
        where = same.headers.get("location", "elsewhere")
        return [
            f"{same.status} at {url} (redirect to {where}): the API must answer directly; "
            "is a login page or another base_url in the way? set "
            "`--ServerApp.base_url=${NB_PREFIX}` and no token/password"
        ]
    return [
        f"{same.status} at {url}: not a Jupyter server answering under NB_PREFIX; start "
        "Jupyter with `--ServerApp.base_url=${NB_PREFIX}` on port 8888"
    ]


def _said(answer: HttpAnswer) -> str:
    return str(answer.status) if answer.status is not None else (answer.error or "no answer")


def _web(answers: Mapping[str, HttpAnswer]) -> list[str]:
    root = _missing("root", answers)
    if root.status is not None and 200 <= root.status < 400:
        return []
    if root.status is None:
        return [f"no HTTP answer at / on {PORT} ({root.error or 'no answer'})"]
    return [
        f"{root.status} at /: Istio forwards VS Code / RStudio requests with the prefix "
        "rewritten to /, so the server must answer / (2xx or 3xx) on port 8888"
    ]


# -- logs ---------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SECRET = re.compile(r"(?i)((?:token|password|passwd|secret|api[_-]?key)[=:]\s*)[^\s&\"']+")


def sanitise_log(raw: bytes | str, lines: int = LOG_LINES, width: int = 240) -> list[str]:
    """The container's last log lines, safe for a terminal: no escape sequences or control
    characters, no token/password values, each line cut to `width`."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _CONTROL.sub("?", _ANSI.sub("", line)).rstrip()
        line = _SECRET.sub(r"\1***", line)
        if line:
            out.append(line if len(line) <= width else line[: width - 1] + "…")
    return out[-lines:]
