"""pytest plugin: claims as experiment tests, one GPU per xdist worker, the verdict report.

Registered through the ``pytest11`` entry point. Options (each also an ini key without the
dashes, e.g. ``grok_scale``): ``--grok-scale``, ``--grok-store``, ``--grok-report-dir``,
``--grok-seeds``, ``--grok-device``, ``--grok-no-report``, ``--grok-plan``.

Under xdist the controller gives every worker one GPU (``pytest_configure_node``), and each
worker sets ``CUDA_VISIBLE_DEVICES`` before torch initialises CUDA; without GPUs each worker gets
its share of the CPU threads. Workers send each claim's verdict, measurements and figures to the
controller inside the test report; the controller prints each verdict as it arrives and, at the
end, writes the report (:mod:`grokclaims.report.report`). Shared state lives in ``config.stash``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import pytest

from grokclaims.engine import devices
from grokclaims.plugin.context import PAYLOAD_KEY, Claim, PlanOnly
from grokclaims.report.report import estimate_text, plan_table, session_meta, write_report
from grokclaims.setups.scales import SCALES, get_scale
from grokclaims.store.format import RegistryError, check_location
from grokclaims.store.registry import ENV_STORE, Registry, resolve_store

MARKER_KWARGS = {"id", "source", "statement"}
log = logging.getLogger("grokclaims")

state_key = pytest.StashKey[dict]()
claim_key = pytest.StashKey[Claim]()


def _positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


OPTIONS = {  # name: (ini type, help)
    "grok_scale": (
        "string",
        "claim scale: smoke, nightly or paper (default: smoke without a GPU, nightly with one)",
    ),
    "grok_store": (
        "string",
        "run registry (SQLite file); default $GROKCLAIMS_STORE or "
        ".grokclaims/runs.sqlite at the project root",
    ),
    "grok_report_dir": ("string", "where reports are written (default: reports/)"),
    "grok_seeds": ("string", "seeds per claim (overrides the scale's count)"),
    "grok_device": ("string", "training device: cpu, cuda, cuda:N (default: a GPU if any)"),
    "grok_no_report": ("bool", "do not write a report"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grokclaims", "grokking claims")
    group.addoption(
        "--grok-scale", choices=sorted(SCALES), default=None, help=OPTIONS["grok_scale"][1]
    )
    group.addoption("--grok-store", default=None, metavar="PATH", help=OPTIONS["grok_store"][1])
    group.addoption(
        "--grok-report-dir", default=None, metavar="DIR", help=OPTIONS["grok_report_dir"][1]
    )
    group.addoption(
        "--grok-seeds", type=_positive_int, default=None, metavar="N", help=OPTIONS["grok_seeds"][1]
    )
    group.addoption("--grok-device", default=None, metavar="DEV", help=OPTIONS["grok_device"][1])
    group.addoption(
        "--grok-no-report", action="store_true", default=None, help=OPTIONS["grok_no_report"][1]
    )
    group.addoption(
        "--grok-plan",
        action="store_true",
        default=False,
        help="list each claim's runs, how many are stored, and the estimated "
        "compute, without training",
    )
    for name, (kind, help_) in OPTIONS.items():
        parser.addini(name, help_, type=kind, default=None)


def _setting(config: pytest.Config, name: str):
    value = config.getoption(name)
    if value is None:
        value = config.getini(name)
    return value if value not in ("", []) else None


def _path_setting(config: pytest.Config, name: str) -> Path | None:
    """A path option: on the command line relative to where pytest was started, as typed; in
    the ini file relative to that file's directory (the rootdir without one)."""
    value = config.getoption(name)
    if value not in (None, ""):
        return Path(config.invocation_params.dir) / Path(value).expanduser()
    value = config.getini(name)
    if value in (None, ""):
        return None
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return Path(base) / Path(value).expanduser()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _resolve(config: pytest.Config) -> dict:
    """Settings decided once, on the controller (or the only process), passed to workers."""
    root = Path(config.rootpath)
    scale = _setting(config, "grok_scale")
    if scale is not None and scale not in SCALES:
        raise pytest.UsageError(
            f"grok_scale: unknown scale {scale!r}; choose from {sorted(SCALES)}"
        )
    n_gpus = devices.gpu_count()
    seeds = _setting(config, "grok_seeds")
    if seeds is not None:
        try:
            seeds = _positive_int(str(seeds))
        except Exception as exc:
            raise pytest.UsageError(f"grok_seeds: {exc}") from None
    report_dir = _path_setting(config, "grok_report_dir") or root / "reports"
    store_setting = _path_setting(config, "grok_store")
    store = resolve_store(store_setting, root)
    if store_setting is not None or os.environ.get(ENV_STORE):
        # A store the user named must be usable before any claim runs (touches nothing; the
        # default one is only checked when a claim opens it, so harness-only sessions don't).
        try:
            check_location(store, create=True)
        except RegistryError as exc:
            raise pytest.UsageError(f"--grok-store: {exc}") from None
    return {
        "scale": scale or ("nightly" if n_gpus else "smoke"),
        "seeds": seeds,
        "device": _setting(config, "grok_device"),
        "store": str(store),
        "report_dir": str(report_dir),
        "no_report": bool(_setting(config, "grok_no_report")),
        "plan": bool(config.getoption("grok_plan")),
        "n_gpus": n_gpus,
    }


def _check_report_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise pytest.UsageError(
            f"--grok-report-dir {path}: not writable ({exc.strerror or exc})"
        ) from None


@pytest.hookimpl(tryfirst=True)  # before conftests' pytest_configure can initialise CUDA
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "claim(id, source, statement): a claim of the grokking "
        "literature tested as an experiment (grokclaims)",
    )
    if _is_worker(config):
        settings = dict(config.workerinput["grokclaims"])
        gpu = config.workerinput.get("grokclaims_gpu")
        if gpu is not None:  # before anything initialises CUDA in this process
            os.environ["CUDA_VISIBLE_DEVICES"] = gpu
        else:
            import torch

            count = config.workerinput.get("workercount", 1)
            torch.set_num_threads(devices.threads_per_worker(devices.cpu_cores(), count))
    else:
        settings = _resolve(config)
        if not settings["no_report"] and not settings["plan"]:
            _check_report_dir(Path(settings["report_dir"]))
    config.stash[state_key] = {
        "settings": settings,
        "results": [],
        "registry": None,
        "start": time.time(),
        "log_handler": None,
        "gpus": {},
    }
    if not _is_worker(config):
        config.pluginmanager.register(Collector(config), "grokclaims-collector")


def _install_progress_log(config: pytest.Config) -> None:
    """Registry progress lines go to the real stderr, past pytest's capture (prefixed per worker
    by the registry), so long training is visible under xdist too. Installed when a claim first
    asks for the registry, removed at the end of the session."""
    capman = config.pluginmanager.get_plugin("capturemanager")

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            line = self.format(record) + "\n"
            if capman is not None:
                with capman.global_and_fixture_disabled():
                    sys.stderr.write(line)
                    sys.stderr.flush()
            else:
                sys.stderr.write(line)

    state = config.stash[state_key]
    if state["log_handler"] is None:
        handler = Handler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        state["log_handler"] = (handler, log.level, log.propagate)
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def _interrupt_on_sigterm(state: dict) -> None:
    """A terminated session (a CI timeout, ``kill``) unwinds like Ctrl-C, so the registry
    releases the runs this process had claimed instead of leaving them to go stale."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt("terminated (SIGTERM)")

    state["sigterm"] = signal.signal(signal.SIGTERM, interrupt)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(state_key, None)
    if state is None:
        return
    if state["log_handler"] is not None:
        handler, level, propagate = state["log_handler"]
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate
        state["log_handler"] = None
    if "sigterm" in state:
        import signal

        signal.signal(signal.SIGTERM, state.pop("sigterm"))
    if state["registry"] is not None:
        state["registry"].close()
        state["registry"] = None


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """With ``-n``, distribute by ``xdist_group`` (``--dist loadgroup``) unless the user chose a
    mode: claims sharing one set of runs carry the same group, so they run on one worker, one
    after another, instead of one worker training while the others wait for its runs."""
    option = config.option
    if (
        getattr(option, "numprocesses", None)
        and getattr(option, "dist", None) == "no"
        and not getattr(option, "distload", False)
    ):
        option.dist = "loadgroup"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist controller: one GPU per worker, inside any CUDA_VISIBLE_DEVICES the user set."""
    state = node.config.stash[state_key]
    settings = state["settings"]
    node.workerinput["grokclaims"] = settings
    index = devices.worker_index(node.gateway.id)
    gpu = devices.assign_gpu(
        index, settings["n_gpus"], devices.visible_devices(), in_use=list(state["gpus"].values())
    )
    node.workerinput["grokclaims_gpu"] = gpu
    if gpu is not None:
        state["gpus"][node.gateway.id] = gpu


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist controller: a worker that ended (or crashed) frees its GPU for its replacement."""
    state = node.config.stash.get(state_key, None)
    if state is not None:
        state["gpus"].pop(node.gateway.id, None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per GPU, or per CPU core without GPUs."""
    return devices.gpu_count() or devices.cpu_cores()


def session_scale(config: pytest.Config):
    """This session's :class:`~grokclaims.setups.scales.Scale` (for ``pytest_generate_tests``)."""
    return get_scale(config.stash[state_key]["settings"]["scale"])


def pytest_report_header(config: pytest.Config) -> list[str]:
    s = config.stash[state_key]["settings"]
    scale = get_scale(s["scale"])
    seeds = scale.seed_list(s["seeds"])
    device = s["device"] or (f"one GPU per worker ({s['n_gpus']} GPUs)" if s["n_gpus"] else "cpu")
    return [
        f"grokclaims: scale={scale.name}, seeds={len(seeds)} {list(seeds)}, "
        f"device={device}, store={s['store']}" + (", plan only" if s["plan"] else "")
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in item.iter_markers("claim"):
            unknown = set(marker.kwargs) - MARKER_KWARGS
            if unknown or marker.args:
                raise pytest.UsageError(
                    f"{item.nodeid}: claim marker takes only "
                    f"{sorted(MARKER_KWARGS)} as keywords; got unknown "
                    f"{sorted(unknown) or list(marker.args)}"
                )
            if "id" not in marker.kwargs or "statement" not in marker.kwargs:
                raise pytest.UsageError(f"{item.nodeid}: claim marker needs id= and statement=")


def _registry(config: pytest.Config) -> Registry:
    state = config.stash[state_key]
    if state["registry"] is None:
        _install_progress_log(config)
        _interrupt_on_sigterm(state)
        try:
            state["registry"] = Registry(state["settings"]["store"], log=log)
        except Exception as exc:
            raise pytest.UsageError(f"--grok-store: {exc}") from None
    return state["registry"]


@pytest.fixture
def grok(request: pytest.FixtureRequest) -> Claim:
    """The claim's handle on runs, measurements, figures and its verdict."""
    marker = request.node.get_closest_marker("claim")
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid}: the grok fixture needs a claim marker")
    config = request.config
    s = config.stash[state_key]["settings"]
    scale = get_scale(s["scale"])
    doc = (request.function.__doc__ or "").strip()
    claim = Claim(
        claim_id=marker.kwargs["id"],
        test_id=_test_id(marker.kwargs["id"], request.node),
        statement=marker.kwargs["statement"],
        source=marker.kwargs.get("source", ""),
        quote=doc,
        scale=scale,
        seeds=scale.seed_list(s["seeds"]),
        device=s["device"] or ("cuda" if s["n_gpus"] and _has_cuda() else None),
        registry=_registry(config),
        plan=s["plan"],
    )
    request.node.stash[claim_key] = claim
    return claim


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _test_id(claim_id: str, item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    return f"{claim_id}[{callspec.id}]" if callspec is not None else claim_id


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    claim = item.stash.get(claim_key, None)
    if claim is None or report.when != "call":
        return
    if call.excinfo is not None and call.excinfo.errisinstance(PlanOnly):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, str(call.excinfo.value))
    elif (
        report.skipped
        and claim.result is not None
        and not hasattr(report, "wasxfail")
        and isinstance(report.longrepr, tuple)
    ):
        # inconclusive: the skip is raised inside grok.conclude; show the claim's test instead
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, report.longrepr[2])
    elif report.passed and claim.result is None:
        report.outcome = "failed"
        report.longrepr = f"{claim.claim_id}: the test ended without grok.conclude(verdict)"
    report.user_properties.append((PAYLOAD_KEY, claim.payload()))


class Collector:
    """Controller side (also without xdist): each claim's payload as its report arrives; the
    verdict printed at once; the report written at the end."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.crashed: list[dict] = []  # tests whose xdist worker died (no keywords to tell)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payloads = [v for k, v in report.user_properties if k == PAYLOAD_KEY]
        failed_claim = report.failed and "claim" in report.keywords
        crashed = report.failed and report.when == "???"  # xdist's report of a crashed worker
        if not payloads and not failed_claim and not crashed:
            return
        entry = _entry(report, payloads[0] if payloads else None)
        state = self.config.stash[state_key]
        if crashed and not failed_claim:
            self.crashed.append(entry)  # listed only in a session that has claims
            return
        state["results"].append(entry)
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None and not state["settings"]["plan"]:
            tr.ensure_newline()
            tr.write_line(f"[grokclaims] {entry['test_id']}: {entry['outcome_text']}")

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        state = self.config.stash[state_key]
        if state["results"]:
            state["results"] += self.crashed
        _finish(self.config)


def _entry(report: pytest.TestReport, payload: str | None) -> dict:
    data = (
        json.loads(payload)
        if payload
        else {
            "claim_id": report.nodeid.split("::")[-1],
            "test_id": report.nodeid,
            "result": None,
            "measurements": [],
            "figures": [],
            "runs": [],
            "planned": [],
        }
    )
    data["nodeid"] = report.nodeid
    data["outcome"] = report.outcome
    data["duration"] = report.duration
    result = data.get("result")
    if result is not None:
        text = f"{result['verdict']}: {estimate_text(result)} (expected {result['tolerance']})"
        if data.get("expected"):
            text += f"; expected at this scale: {data['expected']['verdict']}"
    else:
        text = "error: " + _first_line(report.longreprtext)
        data["error"] = report.longreprtext[-4000:]
    data["outcome_text"] = text
    return data


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no message"


def _finish(config: pytest.Config) -> None:
    state = config.stash[state_key]
    s = state["settings"]
    results = state["results"]
    if not results:
        return
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if s["plan"]:
        text = plan_table(results, device=s["device"] or ("cuda" if s["n_gpus"] else "cpu"))
        if tr is not None:
            tr.write_sep("=", "grokclaims plan")
            tr.write_line(text)
        return
    if s["no_report"]:
        return
    meta = session_meta(
        scale=s["scale"],
        seeds=get_scale(s["scale"]).seed_list(s["seeds"]),
        device=s["device"],
        n_gpus=s["n_gpus"],
        store=s["store"],
        start=state["start"],
        end=time.time(),
    )
    path = write_report(Path(s["report_dir"]), results, meta)
    if tr is not None:
        tr.write_sep("=", "grokclaims report")
        tr.write_line(f"report: {path / 'REPORT.md'}")
