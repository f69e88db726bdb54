"""What the fitting scripts share: writing their results (the data files under bot/data/)."""

from __future__ import annotations

import json
from pathlib import Path


def write_json(path: Path, data: dict) -> None:
    """One JSON file, readable in a diff (the fitted values are committed with their provenance)."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
