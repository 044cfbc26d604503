"""Nothing lost to a second writer: the project lock and "changed on disk" save errors (issue 12)."""
import json
import os
import socket
import subprocess
import sys

import pytest
from PIL import Image

from engine.annotations.records import Box, ImageAnnotation
from engine.annotations.voc import read_voc_xml, write_voc_xml
from engine.project.project import ChangedOnDisk, Project, SaveError
from engine.project.lock import ProjectLocked, lock_path, read_lock


def _folder(tmp_path):
    Image.new("RGB", (64, 48)).save(tmp_path / "a.jpg")
    write_voc_xml(ImageAnnotation(tmp_path / "a.jpg", 64, 48, [Box("dog", 1, 1, 10, 10)]))
    return tmp_path


def _lock_of(tmp_path, pid, host=None):
    path = lock_path(tmp_path)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(), "since": "earlier"}))


def test_a_folder_held_by_another_live_process_is_refused_naming_it(tmp_path):
    _folder(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _lock_of(tmp_path, holder.pid)
        with pytest.raises(ProjectLocked, match=f"process {holder.pid} on {socket.gethostname()}"):
            Project.open(tmp_path)
        read_only = Project.open(tmp_path, read_only=True)
        read_only.mark_dirty(read_only.annotations[0])
        assert [type(e) for e in read_only.save_all()] == [SaveError]
        assert read_lock(tmp_path)["pid"] == holder.pid  # read-only leaves their lock alone
        taken = Project.open(tmp_path, take_over=True)  # held while this object lives
        assert read_lock(tmp_path)["pid"] != holder.pid
        taken.close()
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_of_a_dead_process_is_taken_over_quietly(tmp_path):
    _folder(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _lock_of(tmp_path, dead.pid)
    project = Project.open(tmp_path)
    assert read_lock(tmp_path)["pid"] != dead.pid
    project.close()
    assert not lock_path(tmp_path).exists()


def test_a_box_added_by_another_program_is_not_silently_overwritten(tmp_path):
    _folder(tmp_path)
    project = Project.open(tmp_path)
    ann = project.annotations[0]
    ann.boxes.append(Box("cat", 20, 20, 30, 30))
    project.mark_dirty(ann)
    theirs = ImageAnnotation(tmp_path / "a.jpg", 64, 48, [Box("dog", 1, 1, 10, 10), Box("bird", 40, 5, 60, 25)])
    write_voc_xml(theirs)  # another program, meanwhile
    (failure,) = project.save_all()
    assert isinstance(failure, ChangedOnDisk) and "changed on disk" in str(failure)
    assert [b.label for b in read_voc_xml(tmp_path / "a.xml").boxes] == ["dog", "bird"]  # theirs intact
    assert project.is_dirty(ann)
    project.save(ann, keep_theirs_as_conflict=True)  # keep mine
    assert [b.label for b in read_voc_xml(tmp_path / "a.xml").boxes] == ["dog", "cat"]
    assert [b.label for b in read_voc_xml(tmp_path / "a.xml.conflict").boxes] == ["dog", "bird"]
    ann.boxes.pop()
    project.mark_dirty(ann)
    assert project.save_all() == []  # our own last write is what is on disk now


def test_two_projects_of_one_process_exclude_each_other_like_two_processes(tmp_path):
    """Two windows of one app: the second is told, and may open read-only or take over; closing lets go."""
    _folder(tmp_path)
    first = Project.open(tmp_path)
    with pytest.raises(ProjectLocked, match=f"another window of this ResYOLO \\(process {os.getpid()} on"):
        Project.open(tmp_path)
    assert Project.open(tmp_path, read_only=True).read_only
    second = Project.open(tmp_path, take_over=True)
    first.close()  # taken over: the first window's close leaves the second's lock alone
    assert read_lock(tmp_path)["pid"] == os.getpid()
    with pytest.raises(ProjectLocked):
        Project.open(tmp_path)
    second.close()
    assert not lock_path(tmp_path).exists()
    third = Project.open(tmp_path)
    del third  # a project dropped without close() lets go of the folder too
    Project.open(tmp_path).close()


def _same_size_same_mtime_rewrite(path, old, new):
    """What a second writer within one coarse mtime tick looks like: same length, same mtime, other bytes."""
    stat = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns


def test_a_rewrite_of_the_same_size_within_one_mtime_tick_is_caught_by_the_hash(tmp_path):
    _folder(tmp_path)
    project = Project.open(tmp_path)
    ann = project.annotations[0]
    _same_size_same_mtime_rewrite(tmp_path / "a.xml", "<name>dog</name>", "<name>cow</name>")
    ann.boxes.append(Box("cat", 20, 20, 30, 30))
    project.mark_dirty(ann)
    (failure,) = project.save_all()
    assert isinstance(failure, ChangedOnDisk)
    assert [b.label for b in read_voc_xml(tmp_path / "a.xml").boxes] == ["cow"]
    os.utime(tmp_path / "a.xml")  # touched only, bytes as they were: no conflict
    project.reload([ann])
    os.utime(tmp_path / "a.xml", ns=(1, 10**18))
    ann.boxes.append(Box("cat", 20, 20, 30, 30))
    project.mark_dirty(ann)
    assert project.save_all() == []


def test_a_label_file_created_meanwhile_for_an_unlabelled_image_is_not_overwritten(tmp_path):
    _folder(tmp_path)
    Image.new("RGB", (64, 48)).save(tmp_path / "b.jpg")
    project = Project.open(tmp_path)
    b = project.annotations[1]
    write_voc_xml(ImageAnnotation(tmp_path / "b.jpg", 64, 48, [Box("bird", 1, 1, 9, 9)]))  # labelImg, meanwhile
    assert project.changed_on_disk() == [b]
    b.boxes.append(Box("cat", 20, 20, 30, 30))
    project.mark_dirty(b)
    (failure,) = project.save_all()
    assert isinstance(failure, ChangedOnDisk) and failure.ann is b


def test_reload_theirs_and_show_both(tmp_path):
    _folder(tmp_path)
    project = Project.open(tmp_path)
    ann = project.annotations[0]
    assert project.changed_in_folder(tmp_path) == [] and project.changed_on_disk() == []
    write_voc_xml(ImageAnnotation(tmp_path / "a.jpg", 64, 48, [Box("dog", 1, 1, 10, 10), Box("bird", 40, 5, 60, 25)]))
    assert project.changed_in_folder(tmp_path) == [ann] and project.changed_on_disk() == [ann]
    theirs = project.read_from_disk([ann])[ann.image_path][0]
    assert [b.label for b in theirs.boxes] == ["dog", "bird"] and [b.label for b in ann.boxes] == ["dog"]
    ann.boxes.append(Box("cat", 20, 20, 30, 30))
    project.mark_dirty(ann)
    copy = project.keep_theirs_aside(ann)  # show both: theirs kept, mine saved next without asking
    assert copy == tmp_path / "a.xml.conflict"
    assert project.save_all() == [] and [b.label for b in read_voc_xml(tmp_path / "a.xml").boxes] == ["dog", "cat"]
    assert [b.label for b in read_voc_xml(copy).boxes] == ["dog", "bird"]
    write_voc_xml(ImageAnnotation(tmp_path / "a.jpg", 64, 48, [Box("horse", 2, 2, 12, 12)]))
    assert project.reload([ann]) == [ann] and [b.label for b in ann.boxes] == ["horse"]
    assert not project.is_dirty(ann) and "horse" in project.labels and project.changed_on_disk() == []
    (tmp_path / "a.xml").unlink()  # deleted by another program: changed, and reloads as no boxes
    assert project.changed_in_folder(tmp_path) == [ann]
    project.reload([ann])
    assert ann.boxes == [] and project.changed_on_disk() == []
