"""The loss components each head reports, by name (torch-free: the console, the results CSV, the app's charts and
the training events read them without loading the model code).

:mod:`engine.model.loss` and :mod:`engine.model.loss_modern` report exactly these (a test holds them together).
"""
from __future__ import annotations

RECIPE_COMPONENTS = ("regression", "containment", "no_object", "class")  # the recipe head (engine.model.loss)
ANCHOR_FREE_COMPONENTS = ("iou", "dfl", "class")  # the anchor-free head (engine.model.loss_modern)
# Every loss part either head reports, in chart / CSV order ("class" is shared).
ALL_COMPONENTS = tuple(dict.fromkeys((*RECIPE_COMPONENTS, *ANCHOR_FREE_COMPONENTS)))
