"""The README says what CI runs and what the plugin accepts: check that it stays true.

- the two set-up commands (the fenced block under "## Set up") are the ones ``.ci/run`` runs;
- every ``--grok-*`` option the README mentions is an option of ``grokclaims/plugin/options.py``;
- the worked example claim (the python block after ``<!-- example: claim -->``) compiles.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
PLUGIN_OPTIONS = ROOT / "grokclaims" / "plugin" / "options.py"
EXAMPLE_MARK = "<!-- example: claim -->"
TEST_SPLIT = " && .venv/bin/pytest"  # the first command = install part + this + the claims run


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def setup_commands(text: str) -> list[str]:
    """The lines of the first ```sh block under the '## Set up' heading."""
    section = re.search(r"^## Set up\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section, "README.md has no '## Set up' section"
    block = re.search(r"^```sh\n(.*?)^```", section.group(1), re.M | re.S)
    assert block, "the '## Set up' section has no ```sh block"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip()]


def plugin_options() -> set[str]:
    """The long options registered by ``addoption`` calls in grokclaims/plugin/options.py."""
    tree = ast.parse(PLUGIN_OPTIONS.read_text(encoding="utf-8"))
    return {
        arg.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "addoption"
        for arg in node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    }


def test_setup_block_has_the_two_commands(readme):
    commands = setup_commands(readme)
    assert len(commands) == 2, commands
    assert TEST_SPLIT in commands[0], commands[0]


def test_ci_runs_the_second_command_verbatim(readme):
    second = setup_commands(readme)[1]
    assert second in CI_RUN.read_text(encoding="utf-8"), f".ci/run lacks: {second}"


def test_ci_runs_the_install_part_of_the_first_command_verbatim(readme):
    install = setup_commands(readme)[0].split(TEST_SPLIT, 1)[0]
    assert install.startswith("python3 -m venv .venv && "), install
    assert install in CI_RUN.read_text(encoding="utf-8"), f".ci/run lacks: {install}"


def test_ci_run_is_an_executable_bash_script():
    assert os.access(CI_RUN, os.X_OK), f"{CI_RUN} is not executable"
    first = CI_RUN.read_text(encoding="utf-8").splitlines()[0]
    assert first in ("#!/usr/bin/env bash", "#!/bin/bash"), first


def test_plugin_options_are_found():
    # Guards the parser below: if it found nothing, the next test would prove nothing.
    assert {"--grok-scale", "--grok-plan"} <= plugin_options()


def test_every_grok_option_in_the_readme_exists(readme):
    mentioned = set(re.findall(r"--grok-[a-z]+(?:-[a-z]+)*", readme))
    assert mentioned, "README.md mentions no --grok-* option"
    unknown = mentioned - plugin_options()
    assert not unknown, f"README.md mentions options the plugin lacks: {sorted(unknown)}"


def test_worked_example_compiles(readme):
    blocks = re.findall(re.escape(EXAMPLE_MARK) + r"\s*```python\n(.*?)^```", readme, re.M | re.S)
    assert blocks, f"README.md has no python block after {EXAMPLE_MARK}"
    for i, code in enumerate(blocks):
        compile(code, f"README.md example {i}", "exec")
