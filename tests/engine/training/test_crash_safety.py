"""A writer killed (SIGKILL) at random moments never leaves a half-written label file behind."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.annotations.records import Box, ImageAnnotation
from engine.annotations.voc import read_voc_xml, write_voc_xml

KILLS = 50

# Alternates two versions of the same file as fast as it can; says "ready" once the loop runs.
WRITER = """
import sys
from engine.annotations.records import Box, ImageAnnotation
from engine.annotations.voc import write_voc_xml
image, n_old, n_new = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
versions = [ImageAnnotation(image, 4000, 3000, [Box("cat", i, i, i + 50, i + 60) for i in range(n)])
            for n in (n_old, n_new)]
print("ready", flush=True)
i = 0
while True:
    write_voc_xml(versions[i % 2])
    i += 1
"""

OLD_BOXES, NEW_BOXES = 3, 400  # the new version is big enough that a torn write would be easy to catch


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_label_file_survives_sigkill_at_random_moments(tmp_path):
    image = tmp_path / "photo.jpg"
    xml_path = image.with_suffix(".xml")
    write_voc_xml(ImageAnnotation(image, 4000, 3000, [Box("cat", i, i, i + 50, i + 60) for i in range(OLD_BOXES)]))
    rng = random.Random(0)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    started = time.monotonic()
    seen = set()
    for _ in range(KILLS):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(image), str(OLD_BOXES), str(NEW_BOXES)],
                                  stdout=subprocess.PIPE, env=env)
        assert writer.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0, 0.03))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        boxes = read_voc_xml(xml_path).boxes  # raises if the file is torn
        assert len(boxes) in (OLD_BOXES, NEW_BOXES)
        seen.add(len(boxes))
        assert boxes[-1] == Box("cat", len(boxes) - 1, len(boxes) - 1, len(boxes) + 49, len(boxes) + 59)
    assert seen == {OLD_BOXES, NEW_BOXES}  # the kills did land at different points of the loop
    assert time.monotonic() - started < 60
