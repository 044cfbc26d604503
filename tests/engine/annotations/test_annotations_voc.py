"""Pascal VOC XML: labelImg compatibility, round trip, malformed and hostile files."""
from pathlib import Path

import pytest
from PIL import Image

from engine.annotations.records import AnnotationError, Box, ImageAnnotation
from engine.annotations.voc import read_voc_xml, write_voc_xml

# As labelImg 1.8 writes it: verified flag, an absolute path from another machine, integer pixels.
LABELIMG_XML = """<annotation verified="yes">
\t<folder>pets</folder>
\t<filename>dog1.jpg</filename>
\t<path>C:\\Users\\someone\\pets\\dog1.jpg</path>
\t<source>
\t\t<database>Unknown</database>
\t</source>
\t<size>
\t\t<width>640</width>
\t\t<height>480</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
\t<object>
\t\t<name>dog</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>0</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox>
\t\t\t<xmin>48</xmin>
\t\t\t<ymin>240</ymin>
\t\t\t<xmax>195</xmax>
\t\t\t<ymax>371</ymax>
\t\t</bndbox>
\t</object>
\t<object>
\t\t<name>person</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>1</truncated>
\t\t<difficult>1</difficult>
\t\t<bndbox>
\t\t\t<xmin>8</xmin>
\t\t\t<ymin>12</ymin>
\t\t\t<xmax>352</xmax>
\t\t\t<ymax>480</ymax>
\t\t</bndbox>
\t</object>
</annotation>
"""


def _image(path: Path, size=(64, 48)) -> Path:
    Image.new("RGB", size, (90, 120, 30)).save(path)
    return path


def _object(bndbox: str, name: str = "cat") -> str:
    return f"<annotation><size><width>64</width><height>48</height></size><object><name>{name}</name>" \
           f"<bndbox>{bndbox}</bndbox></object></annotation>"


def test_reads_a_labelimg_file(tmp_path):
    image = _image(tmp_path / "dog1.jpg")
    xml = tmp_path / "dog1.xml"
    xml.write_text(LABELIMG_XML)
    ann = read_voc_xml(xml)
    assert ann.image_path == image  # found beside the XML; the stale absolute <path> is ignored
    assert (ann.width, ann.height, ann.verified) == (640, 480, True)
    assert ann.boxes == [Box("dog", 48, 240, 195, 371), Box("person", 8, 12, 352, 480, difficult=True)]


def test_round_trip_keeps_every_field(tmp_path):
    image = _image(tmp_path / "a.png")
    ann = ImageAnnotation(image, 64, 48, [Box("cat", 1, 2, 30, 40), Box("dog", 10, 5, 64, 48, difficult=True)],
                          verified=True)
    written = write_voc_xml(ann)
    assert written == tmp_path / "a.xml"
    assert read_voc_xml(written) == ann
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # atomic write cleaned up


def test_written_file_has_labelimg_layout(tmp_path):
    image = _image(tmp_path / "a.jpg")
    text = write_voc_xml(ImageAnnotation(image, 64, 48, [Box("cat", 0, 5, 20, 30)])).read_text()
    for element in ("<folder>", "<filename>a.jpg</filename>", "<path>", "<database>Unknown</database>",
                    "<depth>3</depth>", "<segmented>0</segmented>", "<pose>Unspecified</pose>",
                    "<truncated>1</truncated>", "<difficult>0</difficult>", "<xmin>0</xmin>", "<ymax>30</ymax>"):
        assert element in text
    assert "verified" not in text  # labelImg only writes the attribute when set


def test_writes_whole_pixels_without_collapsing_thin_boxes(tmp_path):
    image = _image(tmp_path / "a.jpg")
    ann = ImageAnnotation(image, 64, 48, [Box("cat", 10.4, 3.6, 20.5, 9.2), Box("cat", 5.2, 5.0, 5.4, 9.0)])
    back = read_voc_xml(write_voc_xml(ann, tmp_path / "elsewhere.xml"))
    assert [b.xyxy() for b in back.boxes] == [(10, 4, 20, 9), (5, 5, 6, 9)]


def test_reads_decimal_coordinates_and_missing_size(tmp_path):
    xml = tmp_path / "a.xml"
    xml.write_text("<annotation><filename>a.jpg</filename><object><name>cat</name><bndbox><xmin>1.5</xmin>"
                   "<ymin>2</ymin><xmax>10.25</xmax><ymax>12</ymax></bndbox></object></annotation>")
    ann = read_voc_xml(xml)
    assert (ann.width, ann.height) == (0, 0)  # unknown: the folder loader fills it from the image
    assert ann.boxes == [Box("cat", 1.5, 2, 10.25, 12)]
    assert ann.image_path == tmp_path / "a.jpg"


@pytest.mark.parametrize("content, problem, where", [
    ("<annotation><object><name>cat</name>", "not valid XML", "line 1"),
    ("<annotation><size><width>64</width></size></annotation", "not valid XML", "line 1"),
    ("<labels/>", "expected <annotation>", None),
    (_object("<xmin>1</xmin><ymin>1</ymin><xmax>9</xmax>"), "missing <ymax>", "<object> #1 'cat'"),
    (_object("<xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax> </ymax>"), "missing <ymax>", "<object> #1"),
    (_object("<xmin>9</xmin><ymin>1</ymin><xmax>9</xmax><ymax>5</ymax>"), "xmax (9) must be greater", "#1"),
    (_object("<xmin>1</xmin><ymin>7</ymin><xmax>9</xmax><ymax>5</ymax>"), "ymax (5) must be greater", "#1"),
    (_object("<xmin>one</xmin><ymin>1</ymin><xmax>9</xmax><ymax>5</ymax>"), "<xmin> is not a number: 'one'", "#1"),
    (_object("<xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>5</ymax>", name=""), "empty <name>", "#1"),
    ("<annotation><object><name>cat</name></object></annotation>", "missing <bndbox>", "<object> #1 'cat'"),
    ("<annotation><size><width>wide</width></size></annotation>", "not a number", "<size><width>"),
])
def test_malformed_file_names_file_and_element(tmp_path, content, problem, where):
    xml = tmp_path / "bad.xml"
    xml.write_text(content)
    with pytest.raises(AnnotationError) as info:
        read_voc_xml(xml)
    assert info.value.path == xml
    assert problem in info.value.problem
    if where:
        assert where in info.value.where
    assert str(xml) in str(info.value)


def test_second_object_is_named_in_the_error(tmp_path):
    xml = tmp_path / "bad.xml"
    good = "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"
    bad = "<object><name>dog</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax></bndbox></object>"
    xml.write_text(f"<annotation>{good}{bad}</annotation>")
    with pytest.raises(AnnotationError, match=r"<object> #2 'dog'.*missing <ymax>"):
        read_voc_xml(xml)


def test_entity_bomb_is_refused_not_expanded(tmp_path):
    lol = "".join(f'<!ENTITY lol{i} "{"&lol%d;" % (i - 1) * 10}">' for i in range(1, 10))
    xml = tmp_path / "bomb.xml"
    xml.write_text(f'<?xml version="1.0"?><!DOCTYPE annotation [<!ENTITY lol0 "lol">{lol}]>'
                   "<annotation><folder>&lol9;</folder></annotation>")
    with pytest.raises(AnnotationError, match="refused unsafe XML") as info:
        read_voc_xml(xml)
    assert info.value.path == xml


def test_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    xml = tmp_path / "xxe.xml"
    xml.write_text(f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>'
                   "<annotation><object><name>&x;</name></object></annotation>")
    with pytest.raises(AnnotationError, match="refused unsafe XML"):
        read_voc_xml(xml)


def test_missing_file_is_an_annotation_error(tmp_path):
    with pytest.raises(AnnotationError, match="file not found"):
        read_voc_xml(tmp_path / "nope.xml")


def test_path_is_the_image_relative_to_the_xml_never_the_machines_absolute_path(tmp_path):
    """labelImg writes an absolute <path>: in a shared or tracked folder it leaks the labelling machine's
    folders, and it is wrong on every other machine. Ours is relative to the XML (readers go by <filename>)."""
    import xml.etree.ElementTree as ET

    (tmp_path / "photos").mkdir()
    (tmp_path / "Annotations").mkdir()
    image = _image(tmp_path / "photos" / "a.jpg")
    beside = write_voc_xml(ImageAnnotation(image, 64, 48, [Box("cat", 0, 5, 20, 30)]))
    assert ET.parse(beside).getroot().findtext("path") == "a.jpg"
    elsewhere = write_voc_xml(ImageAnnotation(image, 64, 48, []), tmp_path / "Annotations" / "a.xml")
    assert ET.parse(elsewhere).getroot().findtext("path") == "../photos/a.jpg"
    for written in (beside, elsewhere):
        assert str(tmp_path) not in written.read_text()
        assert read_voc_xml(written, image).image_path == image


@pytest.mark.parametrize("text", [
    '<annotation verified="yes"><filename>a.jpg</filename><size><width>64</width><height>48</height></size>'
    '<object><name>caf\u00e9 &amp; co</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax>'
    '</bndbox></object></annotation>',
    '<?xml version="1.0" encoding="ISO-8859-1"?><annotation><object><name>\u00e9</name></object></annotation>',
    '<a xmlns:x="urn:x"><x:b>&#65;</x:b></a>',
    "<annotation><object><name>cat</name>", "<annotation><size><width>64</width></size></annotation",
    "<annotation>&undefined;</annotation>", "", "not xml at all", "<a></b>",
    "<annotation><!-- a comment --><object/></annotation>",
])
def test_quick_xml_parse_is_the_careful_one(tmp_path, monkeypatch, text):
    """Files without declarations take the C parser; what comes out (or the problem named) is what defusedxml's
    parser gives."""
    import xml.etree.ElementTree as ET

    import engine.annotations.voc as voc

    path = tmp_path / "a.xml"
    path.write_bytes(text.encode("iso-8859-1" if "ISO-8859-1" in text else "utf-8"))

    def parse():
        try:
            return ET.tostring(voc._parse(path))
        except AnnotationError as exc:
            return str(exc)

    assert voc._without_declarations(path.read_bytes()) == ("<!" not in text)  # the quick path taken
    quick = parse()
    monkeypatch.setattr(voc, "_without_declarations", lambda data: False)
    assert quick == parse()
