"""The images a dataset description names stay inside its data root (``data/root.py``).

A JSONL line, an MLTable entry, a CSV row or an image folder's symbolic link that leads outside
the folder holding the description refuses the whole dataset with one line naming the file, the
line and the value, before anything outside is stat'ed or opened (the line is the same whether
the target exists or not); ``allow_outside_root=True`` (keyword, job file, ``--allow-outside-root``)
reads it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from PIL import Image

from automl_vision import OutsideDataRootError
from automl_vision.cli import main
from automl_vision.data import load_dataset, read_source

ALLOW = "allow_outside_root=True (--allow-outside-root on the command line"


def _png(path: Path, colour: tuple[int, int, int] = (10, 20, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path)
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the data root holding a real image (what an escaping path reaches)."""
    _png(tmp_path / "outside" / "secret.png", (200, 0, 0))
    return tmp_path / "outside"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The data root: four images of each of two classes."""
    for i in range(4):
        _png(tmp_path / "data" / "cat" / f"{i}.png", (250, 10, 10))
        _png(tmp_path / "data" / "dog" / f"{i}.png", (10, 10, 250))
    return tmp_path / "data"


def _jsonl(root: Path, extra: str, name: str = "labels.jsonl") -> Path:
    """The root's eight images, then one line with ``extra`` as its image_url (line 9)."""
    lines = [
        json.dumps({"image_url": f"{kind}/{i}.png", "label": kind})
        for kind in ("cat", "dog")
        for i in range(4)
    ]
    lines.append(json.dumps({"image_url": extra, "label": "cat"}))
    path = root / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _refused(path: Path, value: str, line: int = 9, **options) -> str:
    with pytest.raises(OutsideDataRootError) as refused:
        load_dataset(path, cache=False, **options)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{path}, line {line}: ")
    assert repr(value) in message and "whole dataset is refused" in message and ALLOW in message
    return message


@pytest.mark.parametrize(
    "value",
    ["../outside/secret.png", "cat/../../outside/secret.png", "../../../../../../etc/passwd"],
)
def test_a_relative_path_that_climbs_out_is_refused(root, outside, value) -> None:
    message = _refused(_jsonl(root, value), value)
    assert f"image_url {value!r} leads outside the data root {str(root)!r}" in message


def test_an_absolute_path_outside_is_refused(root, outside) -> None:
    value = str(outside / "secret.png")
    _refused(_jsonl(root, value), value)
    _refused(_jsonl(root, "/etc/passwd"), "/etc/passwd")


@pytest.mark.parametrize(
    "value",
    ["azureml://x/../../outside/secret.png",
     "azureml://subscriptions/s/datastores/d/paths/../../../../../../etc/passwd"],
)  # fmt: skip
def test_an_azureml_url_that_climbs_out_is_refused(root, outside, value) -> None:
    _refused(_jsonl(root, value), value)


def test_an_azureml_url_still_maps_into_the_root(root) -> None:
    url = "azureml://subscriptions/s/datastores/d/paths/data/cat/0.png"
    images = read_source(_jsonl(root, url)).images
    assert images[-1] == root / "cat" / "0.png"


def test_a_symlink_inside_the_root_that_points_outside_is_refused(root, outside) -> None:
    (root / "cat" / "link.png").symlink_to(outside / "secret.png")
    (root / "elsewhere").symlink_to(outside, target_is_directory=True)
    _refused(_jsonl(root, "cat/link.png"), "cat/link.png")
    _refused(_jsonl(root, "elsewhere/secret.png"), "elsewhere/secret.png")
    (root / "inside.png").symlink_to(root / "cat" / "0.png")  # a link that stays inside
    assert read_source(_jsonl(root, "inside.png")).images[-1] == root / "inside.png"


def test_the_refusal_is_the_same_whether_the_target_exists_or_not(root, tmp_path) -> None:
    value = "../outside/secret.png"
    path = _jsonl(root, value)
    absent = _refused(path, value)
    _png(tmp_path / "outside" / "secret.png")
    assert _refused(path, value) == absent
    (root / "cat" / "gone.png").symlink_to(tmp_path / "outside" / "nothing.png")
    linked_absent = _refused(_jsonl(root, "cat/gone.png"), "cat/gone.png")
    (root / "cat" / "gone.png").unlink()
    (root / "cat" / "gone.png").symlink_to(tmp_path / "outside" / "secret.png")
    assert _refused(_jsonl(root, "cat/gone.png"), "cat/gone.png") == linked_absent


def test_nothing_outside_the_root_is_stat_ed_before_the_refusal(root, outside, monkeypatch):
    (root / "cat" / "link.png").symlink_to(outside / "secret.png")
    looked_at: list[str] = []
    for name in ("stat", "lstat", "open", "scandir", "listdir"):
        real = getattr(os, name)

        def spy(path, *args, _real=real, **kwargs):
            if isinstance(path, (str, os.PathLike)):
                looked_at.append(os.path.normpath(os.path.abspath(os.fspath(path))))
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(os, name, spy)
    for value in ("../outside/secret.png", str(outside / "secret.png"), "cat/link.png",
                  "azureml://a/../../outside/secret.png"):  # fmt: skip
        _refused(_jsonl(root, value), value)
    monkeypatch.undo()
    assert looked_at  # the spies saw the reads inside the root
    assert not [p for p in looked_at if p.startswith(str(outside))]


def test_allow_outside_root_reads_them(root, outside) -> None:
    (root / "cat" / "link.png").symlink_to(outside / "secret.png")
    for value in ("../outside/secret.png", str(outside / "secret.png"), "cat/link.png"):
        dataset = load_dataset(_jsonl(root, value), cache=False, allow_outside_root=True)
        assert len(dataset.images) == 9


def test_paths_inside_the_root_still_work(root) -> None:
    for value in ("cat/0.png", str(root / "cat" / "0.png"), "dog/../cat/0.png",
                  f"../{root.name}/cat/0.png"):  # fmt: skip
        images = read_source(_jsonl(root, value)).images
        assert len(images) == 9 and Path(images[-1]).resolve() == root / "cat" / "0.png"


def test_an_mltable_keeps_its_jsonl_files_and_images_inside_its_folder(root, outside) -> None:
    (root / "sub").mkdir()
    sub = _jsonl(root / "sub", "../cat/0.png")
    sub.write_text(sub.read_text().replace('"cat/', '"../cat/').replace('"dog/', '"../dog/'))
    (root / "MLTable").write_text("paths:\n  - file: ./sub/labels.jsonl\n")
    assert len(read_source(root)) == 9  # the MLTable's folder is the root, not the JSONL's
    jsonl = _jsonl(root, "../outside/secret.png")
    (root / "MLTable").write_text("paths:\n  - file: ./labels.jsonl\n")
    with pytest.raises(OutsideDataRootError, match=rf"^{jsonl}, line 9: image_url '\.\./outside"):
        read_source(root)
    (outside / "x.jsonl").write_text('{"image_url": "secret.png", "label": "cat"}\n')
    (root / "MLTable").write_text("paths:\n  - file: ../outside/x.jsonl\n")
    with pytest.raises(OutsideDataRootError) as refused:
        read_source(root)
    assert str(refused.value).startswith(
        f"{root / 'MLTable'}, paths entry 1: file '../outside/x.jsonl' leads outside"
    )
    assert len(read_source(root, allow_outside_root=True)) == 1


def test_a_csv_row_that_leads_outside_is_refused(root, outside) -> None:
    rows = ["path,label", "cat/0.png,cat", "../outside/secret.png,cat"]
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(OutsideDataRootError) as refused:
        read_source(root / "labels.csv")
    assert str(refused.value).startswith(
        f"{root / 'labels.csv'}, line 3: image path '../outside/secret.png' leads outside"
    )
    assert len(read_source(root / "labels.csv", allow_outside_root=True)) == 2


def test_an_image_folder_with_a_symlink_outside_is_refused(root, outside) -> None:
    (root / "cat" / "link.png").symlink_to(outside / "secret.png")
    with pytest.raises(OutsideDataRootError) as refused:
        read_source(root)
    message = str(refused.value)
    assert message.startswith(
        f"image folder {str(root)!r}, cat/link.png: a symbolic link to "
        f"{str(outside / 'secret.png')!r} leads outside the data root"
    )
    assert "\n" not in message and ALLOW in message
    assert len(read_source(root, allow_outside_root=True)) == 9
    (root / "cat" / "link.png").unlink()
    (root / "bird").symlink_to(outside, target_is_directory=True)  # a class folder
    with pytest.raises(OutsideDataRootError, match=r", bird: a symbolic link to"):
        read_source(root)
    (root / "bird").unlink()
    (root / "cat" / "again.png").symlink_to(root / "dog" / "0.png")  # inside: read
    assert len(read_source(root)) == 9


def test_tune_on_the_command_line_refuses_in_one_line_and_exits_2(root, outside, tmp_path,
                                                                    capsys) -> None:  # fmt: skip
    path = _jsonl(root, "../outside/secret.png")
    run = tmp_path / "run"
    code = main(["tune", "--data", str(path), "--dry-run", "--output-dir", str(run)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"automl-vision: error: {path}, line 9: image_url '../outside/")
    assert err.count("\n") == 1 and "Traceback" not in err and "--allow-outside-root" in err
    assert not run.exists()


def test_tune_reads_it_when_allowed_by_flag_and_by_job_file(root, outside, tmp_path,
                                                            capsys) -> None:  # fmt: skip
    path = _jsonl(root, "../outside/secret.png")
    small = ["--search-space", "cpu_tiny", "--device", "cpu", "--max-trials", "1",
             "--pretrained", "false"]  # fmt: skip
    args = ["tune", "--data", str(path), "--dry-run", "--output-dir", str(tmp_path / "r"), *small]
    assert main([*args, "--allow-outside-root"]) == 0
    assert "data: ImageDataset" in capsys.readouterr().out
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump({"training_data": {"path": str(path)},
                                   "allow_outside_root": True}))  # fmt: skip
    assert main(["tune", "-c", str(job), "--dry-run", "--output-dir", str(tmp_path / "r"),
                 *small]) == 0  # fmt: skip
    assert main(["tune", "-c", str(job), "--no-allow-outside-root", "--dry-run"]) == 2


def test_the_train_command_takes_the_flag(root, outside, monkeypatch, capsys) -> None:
    path = _jsonl(root, "../outside/secret.png")
    assert main(["train", "--data", str(path), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "leads outside the data root" in err
    seen = {}

    def loaded(data, **options):
        seen.update(options)
        raise ValueError("stop here")

    monkeypatch.setattr("automl_vision.cli.train.load_dataset", loaded)
    for flag in ("--allow-outside-root", "--allow_outside_root"):
        assert main(["train", "--data", str(path), flag]) == 2
        assert seen.pop("allow_outside_root") is True
