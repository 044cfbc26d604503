"""Annotation records: AnnotationError survives pickling (a DataLoader worker sends it to the main process)."""
import pickle
from pathlib import Path

import pytest

from engine.annotations.records import AnnotationError


@pytest.mark.parametrize("where", ["line 3", None])
def test_annotation_error_pickles_with_its_fields(where):
    error = AnnotationError(Path("/data/a.xml"), "missing <ymin> in <bndbox>", where)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is AnnotationError
    assert (copy.path, copy.problem, copy.where) == (Path("/data/a.xml"), "missing <ymin> in <bndbox>", where)
    assert str(copy) == str(error)
