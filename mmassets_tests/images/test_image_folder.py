"""One image folder for an export: each root at its publisher's path, links per directory (per file
where a directory mixes sources), and every record's path resolving to its real file."""

import os

from mmassets.image_roots import resolve_roots, split_published
from mmassets.images.image_folder import export_paths, folder_files, folder_path, link_image_folder, link_plan, row_images


def test_published_paths_split_into_their_roots():
    assert split_published("coco/train2017/000000000139.jpg") == ("coco_train2017", "000000000139.jpg")
    assert split_published("llava/llava_pretrain/images/00453/004539375.jpg") == ("sharegpt4v_llava", "00453/004539375.jpg")
    assert split_published("vg/VG_100K_2/1.jpg") == ("vg", "VG_100K_2/1.jpg")
    assert split_published("web-landmark/images/Q1.jpg") == ("web_landmark", "images/Q1.jpg")
    assert split_published("synthdog-ja/image/000/00001.jpg") == ("raw", "synthdog-ja/image/000/00001.jpg")
    # and each root's place in an export's folder is the path its publisher wrote
    for path in ("coco/train2017/1.jpg", "vg/VG_100K/2.jpg", "allava_laion/images/3.jpeg", "sam/images/sa_1.jpg"):
        assert folder_path(*split_published(path)) == path
    assert folder_path("vflan", "CLEVR_1.jpg") == "vflan/images_191task_1k/CLEVR_1.jpg"
    assert folder_path("repaired", "ocr_vqa/images/1.jpg") == "mmassets_repaired/ocr_vqa/images/1.jpg"


def test_link_plan_links_whole_directories_unless_they_mix_sources_or_hold_others(tmp_path):
    files = {"coco/train2017/a.jpg": tmp_path / "c/a.jpg", "coco/train2017/b.jpg": tmp_path / "c/b.jpg",
             "coco/top.jpg": tmp_path / "t/top.jpg",  # coco/ holds another image directory: its files one by one
             "mixed/1.jpg": tmp_path / "m1/1.jpg", "mixed/2.jpg": tmp_path / "m2/2.jpg",
             "renamed/x.jpg": tmp_path / "r/y.jpg", "root.jpg": tmp_path / "root.jpg"}
    dirs, singles = link_plan(files)
    assert dirs == {"coco/train2017": str(tmp_path / "c")}
    assert sorted(singles) == ["coco/top.jpg", "mixed/1.jpg", "mixed/2.jpg", "renamed/x.jpg", "root.jpg"]


def test_an_image_folder_resolves_every_record_path_across_roots(tmp_path):
    raw, data = tmp_path / "raw", tmp_path / "data"
    elsewhere = tmp_path / "sam_elsewhere"
    real = [raw / "coco/train2017/1.jpg", elsewhere / "sa_1.jpg", data / "images/repaired/ocr_vqa/images/9.jpg",
            raw / "synthdog-ja/image/000/00000.jpg"]
    for i, path in enumerate(real):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes([i]))
    roots = resolve_roots(raw, {"sam": str(elsewhere)}, data)
    located = row_images(["raw", "sam", "repaired", "raw", "raw"],
                         [["coco/train2017/1.jpg"], ["sa_1.jpg"], ["ocr_vqa/images/9.jpg"],
                          ["synthdog-ja/image/000/00000.jpg"], []], ["", "", "", "", ""])
    paths = export_paths(located)
    assert paths == [["coco/train2017/1.jpg"], ["sam/images/sa_1.jpg"], ["mmassets_repaired/ocr_vqa/images/9.jpg"],
                     ["synthdog-ja/image/000/00000.jpg"], []]
    target = link_image_folder(tmp_path / "out/train.images", folder_files(located, roots.__getitem__))
    for (path,), file in zip(paths, real):
        assert (target / path).read_bytes() == file.read_bytes()
    assert all(os.path.islink(p) for p in [target / "coco/train2017", target / "sam/images"])
    again = link_image_folder(target, folder_files(located[:1], roots.__getitem__))  # rebuilt whole, in place
    assert (again / "coco/train2017/1.jpg").is_file() and not (again / "sam").exists()
    assert elsewhere.joinpath("sa_1.jpg").is_file()  # replacing the folder never follows its links
