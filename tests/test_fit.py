"""Fitted files say what they learnt from, so a fit that predates a change to its training data is caught."""

from __future__ import annotations

import json
import shutil

import pytest

from bot.answer import ADAPTER_FILE, PARAMS_FILE
from bot.evaluation import SETS_FILE, training_fingerprint


@pytest.mark.parametrize("path", [ADAPTER_FILE, PARAMS_FILE], ids=lambda p: p.name)
def test_each_fitted_file_matches_the_training_data_it_names(path):
    provenance = json.loads(path.read_text(encoding="utf-8"))["provenance"]
    assert provenance["trained_on"], path
    assert provenance["training_fingerprint"] == training_fingerprint(provenance["trained_on"]), (
        f"{path.name} was fitted on other training data than tests/eval holds now: run `make fit`"
    )


def test_an_edited_training_set_changes_the_fingerprint(tmp_path):
    folder = tmp_path / "eval"
    shutil.copytree(SETS_FILE.parent, folder)
    before = training_fingerprint(["article-train"], folder / "sets.toml")
    with (folder / "article-train.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"kind": "refuse", "question": "a new training question?"}\n')
    assert training_fingerprint(["article-train"], folder / "sets.toml") != before
    assert training_fingerprint(["real-train"], folder / "sets.toml") == training_fingerprint(["real-train"])
