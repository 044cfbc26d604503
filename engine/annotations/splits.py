"""What the names of a dataset's own splits mean, for every layout that has splits.

Ultralytics' ``train``/``val``/``test``, Roboflow's ``valid``, the VOC devkit's ``ImageSets/Main`` names and COCO
as released (``train2017``/``val2017``, ``train2014``/``val2014``): :func:`split_role` reads one name as
``train``, ``val`` or ``test``, and :func:`train_val_pair` picks the two splits a run trains and validates on
when the user names none. Names of neither role (a devkit's ``trainval``, the union of two) are left alone.
"""
from __future__ import annotations

import re

_ROLES = {"train": "train", "val": "val", "valid": "val", "test": "test"}
_YEAR = re.compile(r"^(train|val|valid|test)(\d{4})$")


def split_role(name: str) -> str | None:
    """``train``, ``val`` (also ``valid``) or ``test`` for a split's name, COCO's year dropped
    (``train2017`` -> ``train``); None for the others."""
    year = _YEAR.match(name)
    return _ROLES.get(year.group(1) if year else name)


def train_val_pair(names) -> tuple[str, str] | None:
    """The (train, validation) split names among ``names``: the plain ``train`` and ``val`` (or ``valid``);
    else COCO's pair of one year, the latest of them (``train2017``, ``val2017``: never 2014's train with 2017's
    val, whose images overlap); None when there is no such pair."""
    names = set(names)
    plain_val = next((n for n in ("val", "valid") if n in names), None)
    if "train" in names and plain_val is not None:
        return "train", plain_val
    by_year: dict[str, dict[str, str]] = {}
    for name in names:
        match = _YEAR.match(name)
        if match:
            by_year.setdefault(match.group(2), {}).setdefault(_ROLES[match.group(1)], name)
    for year in sorted(by_year, reverse=True):
        roles = by_year[year]
        if "train" in roles and "val" in roles:
            return roles["train"], roles["val"]
    return None
