"""Qt-free annotation records shared by the engine and the app.

Coordinates are pixels in the image as displayed (EXIF orientation applied), corners
``x1 < x2``, ``y1 < y2``, float. A box names its class by string: class ids exist only in
file formats (YOLO txt, COCO) and in tensors, and are resolved through a :class:`LabelSet`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass
class Box:
    label: str
    x1: float
    y1: float
    x2: float
    y2: float
    difficult: bool = False

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def copy(self, **changes) -> "Box":
        return replace(self, **changes)


@dataclass
class ImageAnnotation:
    """Ground truth of one image. ``width``/``height`` are 0 when not yet known."""

    image_path: Path
    width: int = 0
    height: int = 0
    boxes: list[Box] = field(default_factory=list)
    verified: bool = False

    @property
    def image_id(self) -> str:
        """The id used in COCO-style results for folder datasets: file name without extension."""
        return Path(self.image_path).stem

    def labels(self) -> set[str]:
        return {b.label for b in self.boxes}


@dataclass
class LabelSet:
    """The ordered class list of a project or dataset. The index of a name is its class id."""

    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self):
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"unknown class {name!r}; known classes: {', '.join(self.names) or '(none)'}") from None

    def name(self, class_id: int) -> str:
        if not 0 <= class_id < len(self.names):
            raise KeyError(f"class id {class_id} out of range 0..{len(self.names) - 1}")
        return self.names[class_id]

    def add(self, name: str) -> int:
        """Add ``name`` if new; return its id either way."""
        if name not in self.names:
            self.names.append(name)
        return self.names.index(name)


class AnnotationError(ValueError):
    """A label file that cannot be read. The message names the file and, where known, the line or element."""

    def __init__(self, path: Path | str, problem: str, where: str | None = None):
        self.path = Path(path)
        self.problem = problem
        self.where = where
        location = f"{self.path}" + (f" ({where})" if where else "")
        super().__init__(f"{location}: {problem}")

    #: False for notes that are not faults of the file (a shape that is not a box, kept as it is)
    is_fault = True

    def __reduce__(self):
        # Rebuilt from its fields, not from the message (the default): a DataLoader worker's error can
        # then be raised again in the main process, with ``path``, ``problem`` and ``where`` intact.
        return type(self), (self.path, self.problem, self.where)


class NotABox(AnnotationError):
    """A shape of another tool that is not a box (a labelme polygon, a CVAT polyline): listed, kept untouched on
    saving, and no reason to doubt the rest of its file."""

    is_fault = False
