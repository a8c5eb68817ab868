"""The Kestra 0.20 conformance corpus, one test per scenario (`file::scenario`).

The corpus lives outside the repository: KESTRA_LITE_CONFORMANCE_DIR, else
<repo>/../shared/conformance (CI has `shared/` beside the repository clone). Each test gets
the suite's fixtures (a fresh SQLite or PostgreSQL database per KESTRA_LITE_TEST_DB, a
flushed Redis database, a storage directory, an encryption key) and a runtime of its own.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from kestra_lite import conformance

REPO = Path(__file__).resolve().parents[2]


def _corpus_dir() -> Path | None:
    candidates = []
    if os.environ.get("KESTRA_LITE_CONFORMANCE_DIR"):
        candidates.append(Path(os.environ["KESTRA_LITE_CONFORMANCE_DIR"]))
    candidates += [REPO.parent / "shared" / "conformance", REPO / "shared" / "conformance"]
    for candidate in candidates:
        if (candidate / "expectations.yaml").is_file():
            return candidate
    return None


CORPUS_DIR = _corpus_dir()
CORPUS = conformance.load_corpus(CORPUS_DIR) if CORPUS_DIR else None
SCENARIOS = conformance.scenario_ids(CORPUS) if CORPUS else []


def test_corpus_is_found():
    assert CORPUS_DIR is not None, (
        "conformance corpus not found: set KESTRA_LITE_CONFORMANCE_DIR or put it in "
        f"{REPO.parent / 'shared' / 'conformance'}")
    assert len(SCENARIOS) > 0


def test_every_skip_names_a_scenario_and_an_issue():
    known = {(file, name) for file, name, _ in SCENARIOS}
    for key, reason in conformance.SKIPS.items():
        assert key in known, f"SKIPS entry {key} is not a scenario of the corpus"
        assert "issue" in reason, f"SKIPS entry {key} does not name its owning issue"
    for key in conformance.HANDLERS:
        assert key in known, f"HANDLERS entry {key} is not a scenario of the corpus"


@pytest.fixture
def runtime(settings, db):
    runtime = conformance.open_runtime(settings)
    try:
        yield runtime
    finally:
        conformance.close_runtime(runtime)


def _params():
    params = []
    for file, name, scenario in SCENARIOS:
        reason = conformance.SKIPS.get((file, name))
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(file, name, scenario, id=f"{file}::{name}", marks=marks))
    return params


@pytest.mark.parametrize("file,name,scenario", _params())
def test_scenario(runtime, file, name, scenario):
    failures = conformance.run_scenario(runtime, CORPUS, file, scenario)
    assert not failures, "\n".join(failures)
