"""engine.annotations.listing and the per-image lookups: the quick string paths agree with os.path and Path."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.annotations.beside import count_existing, count_label_files, label_paths
from engine.annotations.listing import FolderListing, is_image_name, natural_sort_key, split_path, split_stem
from engine.annotations.voc import label_path as voc_label_path
from engine.annotations.yolo import yolo_label_path

NAMES = ["a.jpg", "A.JPG", "a.b.png", ".hidden.jpg", "._a.jpg", "..jpg", "noext", "x.", "x.jpeg.txt", "a.tif",
         "img10.jpg", "img2.jpg", "img-1.jpg", "img1.jpg", "IMG001.png", "v2.10.3.jpg", "é1.webp", "a b.bmp"]


@pytest.mark.parametrize("name", NAMES)
def test_split_stem_and_image_names_as_os_path(name):
    assert split_stem(name) == os.path.splitext(name)[0]
    old = not name.startswith(".") and os.path.splitext(name)[1].lower() in {
        ".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
    assert is_image_name(name) == old


@pytest.mark.parametrize("path", ["/a/b.jpg", "/b.jpg", "/a//b.jpg", "/a/b/", "b.jpg", "", "/", "/a/b/c.d.xml"])
def test_split_path_as_os_path(path):
    assert split_path(path) == os.path.split(path)


def test_natural_order_unchanged():
    def old_key(text):  # the key before it was made quicker
        import re
        return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(text).lower()))

    names = NAMES + ["images/train/img3.jpg", "images/train/img20.jpg", "images/val/img1.jpg", "0", "00", "1a1"]
    assert [natural_sort_key(n) for n in names] == [old_key(n) for n in names]
    assert sorted(names, key=natural_sort_key) == sorted(names, key=old_key)


def make(folder: Path, layout: dict[str, bytes]) -> Path:
    for relative, data in layout.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    return folder


def test_images_as_strings_and_paths_agree_and_counts_match_the_path_lookups(tmp_path):
    folder = make(tmp_path / "d", {"b10.jpg": b"", "b2.jpg": b"", "b2.xml": b"", "b2.png": b"", "c.txt": b"",
                                   "images/x/i1.jpg": b"", "images/x/i1.xml": b"", "labels/x/i1.txt": b"",
                                   "images/i0.png": b"", ".d.jpg": b""})
    listing = FolderListing(folder)
    assert listing.images == [Path(t) for t in listing.image_texts]
    assert [p.relative_to(folder).as_posix() for p in listing.images] == [
        "b2.jpg", "b2.png", "b10.jpg", "images/i0.png", "images/x/i1.jpg"]
    for label_path in (voc_label_path, yolo_label_path):
        paths = label_paths(listing.images, label_path, per_folder=True)
        assert paths == [str(label_path(p)) for p in listing.images]  # per folder = per image
        assert count_label_files(listing, label_path) == count_existing(listing, paths)
    assert count_label_files(listing, voc_label_path) == 3  # b2.jpg and b2.png share b2.xml; i1
    assert count_label_files(listing, yolo_label_path) == 1  # labels/x/i1.txt


def test_set_images_replaces_what_was_listed(tmp_path):
    folder = make(tmp_path / "d", {"a.jpg": b"", "other/b.jpg": b""})
    listing = FolderListing(folder)
    assert listing.image_texts == [str(folder / "a.jpg")]
    listing.set_images([str(folder / "other" / "b.jpg")])
    assert listing.images == [folder / "other" / "b.jpg"] and list(listing.images_by_folder()) == [
        str(folder / "other")]
    mine = [folder / "a.jpg"]
    listing.set_images(mine)
    assert listing.images[0] is mine[0] and listing.image_texts == [str(folder / "a.jpg")]


def test_first_image_without_sorting_is_the_first_of_the_sorted_list(tmp_path):
    folder = make(tmp_path / "d", {"img10.jpg": b"", "img9.png": b"", "Img9.jpg": b"", "img9.jpg": b"",
                                   "images/a/img1.jpg": b"", "b.txt": b""})
    quick = FolderListing(folder)
    assert quick.first_image_text() == FolderListing(folder).image_texts[0] == str(folder / "images" / "a" / "img1.jpg")
    assert quick.image_count() == 5 and "image_texts" not in quick.__dict__  # nothing sorted for that
    assert count_label_files(quick, voc_label_path) == 0
    assert sorted(quick.images_by_folder()) == [str(folder), str(folder / "images" / "a")]
    (folder / "images" / "a" / "img1.jpg").unlink()
    top = FolderListing(folder)
    assert top.first_image_text() == top.image_texts[0]
