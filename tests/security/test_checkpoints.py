"""Nothing in a sweep folder runs code: crafted checkpoints, resume states, probe caches and
metrics files are refused with one line naming the file, and a marker file proves that no
payload ran. Also: a folder another sweep wrote is never adopted."""

from __future__ import annotations

import io
import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from helpers_sweep import tiny_space, write_job
from helpers_training import tiny_config, tiny_dataset

from automl_vision import choice, tune
from automl_vision.artifacts import BEST_FILE, OWNER_FILE, RESUME_FILE
from automl_vision.cli import main
from automl_vision.planning.memory import Shape, step_peaks
from automl_vision.predict import load_model
from automl_vision.store.database import SweepStore
from automl_vision.store.trial_folders import ForeignTrialFolderError
from automl_vision.training import train
from automl_vision.training.checkpoint import Checkpoint, load_checkpoint
from automl_vision.training.resume import ForeignResumeError, load_resume, save_resume
from automl_vision.training.tensor_file import (
    CorruptCheckpointError,
    LegacyCheckpointError,
    TensorFileKind,
    read_tensor_file,
    write_tensor_file,
)

ROOT = Path(__file__).resolve().parents[2]


class _Payload:
    """Unpickling this creates ``marker``: proof that a loader ran code from a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _malicious_pickle(path: Path, marker: Path, *, resume_header: bool = False) -> Path:
    buffer = io.BytesIO()
    torch.save({"format": 1, "state_dict": {}, "task": _Payload(marker), "epoch": 1}, buffer)
    payload = buffer.getvalue()
    if resume_header:  # release 1's resume header: a checksum anyone can compute
        import hashlib

        digest = hashlib.sha256(payload).hexdigest().encode()
        payload = b"automl_vision-resume " + digest + b"\n" + payload
    path.write_bytes(payload)
    return path


def _cli(*args: str, capsys) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A real training run's folder (best.safetensors, resume.safetensors)."""
    out = tmp_path_factory.mktemp("trained")
    train(tiny_config(number_of_epochs=1), tiny_dataset(), output_dir=out)
    return out


# -- checkpoints -----------------------------------------------------------------------------
def test_a_malicious_best_pt_runs_nothing_on_load_or_predict(tmp_path, capsys) -> None:
    marker = tmp_path / "ran"
    best = _malicious_pickle(tmp_path / "best.pt", marker)
    with pytest.raises(LegacyCheckpointError, match="best.pt.*pickle.*can run code"):
        load_checkpoint(best)
    with pytest.raises(LegacyCheckpointError):
        load_model(tmp_path)  # the run directory holding it
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(image)
    code, err = _cli("predict", str(best), str(image), capsys=capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "best.pt" in err
    assert not marker.exists()


def test_a_foreign_pt_file_is_one_line_not_a_traceback(tmp_path, capsys) -> None:
    """Release 1 said KeyError: 'task' for a .pt that is not ours."""
    path = tmp_path / "x.pt"
    torch.save({"weights": torch.ones(2)}, path)
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(image)
    code, err = _cli("predict", str(path), str(image), capsys=capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "x.pt" in err
    code, err = _cli("predict", str(path), str(image), "--trust", capsys=capsys)
    assert code == 2 and "not an automl_vision checkpoint" in err


@pytest.mark.parametrize(
    "tree",
    [
        {"timm_name": "test_resnet"},  # fields missing
        {"x": 1},
        [1, 2, 3],
        {"$tensor": "nowhere"},
        {"$unknown": 1},
        {"$map": "not a list"},
    ],
)
def test_a_checkpoint_with_hostile_metadata_is_refused_in_one_line(tmp_path, tree) -> None:
    path = write_tensor_file(tmp_path / BEST_FILE, TensorFileKind.CHECKPOINT, tree)
    with pytest.raises(CorruptCheckpointError, match=BEST_FILE) as caught:
        load_checkpoint(path)
    assert "\n" not in str(caught.value)


def test_a_checkpoint_with_wrong_field_types_is_refused(trained, tmp_path) -> None:
    good = load_checkpoint(trained / BEST_FILE)
    for field, value in [
        ("num_classes", "3"),
        ("num_classes", True),
        ("task", "os.system"),
        ("mean", [0.5]),
        ("class_names", "abc"),
        ("input_size", 10**30),
        ("metrics", {"accuracy": "high"}),
    ]:
        tree = {**good.to_tree(), field: value}
        path = write_tensor_file(
            tmp_path / BEST_FILE, TensorFileKind.CHECKPOINT, tree, weights=good.state_dict
        )
        with pytest.raises(CorruptCheckpointError, match="not an automl_vision checkpoint"):
            load_checkpoint(path)


def test_files_that_are_not_checkpoints_are_named(tmp_path) -> None:
    cases = {
        "empty": b"",
        "text": b"hello world, not a checkpoint",
        "huge_header": (2**62).to_bytes(8, "little") + b"{}",
        "bad_json": (5).to_bytes(8, "little") + b"{abc}",
    }
    for name, raw in cases.items():
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(raw)
        with pytest.raises(CorruptCheckpointError, match=path.name):
            load_checkpoint(path)
    other = write_tensor_file(tmp_path / "r.safetensors", TensorFileKind.RESUME, {"epoch": 1})
    with pytest.raises(CorruptCheckpointError, match="not an automl_vision checkpoint"):
        load_checkpoint(other)  # a resume state is not a checkpoint


def test_a_checkpoint_is_an_ordinary_weights_file(trained) -> None:
    from safetensors.torch import load_file

    weights = load_file(str(trained / BEST_FILE))
    assert weights.keys() == load_checkpoint(trained / BEST_FILE).state_dict.keys()


def test_a_flipped_bit_in_the_weights_is_detected(trained, tmp_path) -> None:
    path = tmp_path / BEST_FILE
    raw = bytearray((trained / BEST_FILE).read_bytes())
    raw[-3] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptCheckpointError, match="checksum"):
        load_checkpoint(path)


def test_a_legacy_checkpoint_loads_only_when_trusted_and_converts(trained, tmp_path) -> None:
    good = load_checkpoint(trained / BEST_FILE)
    legacy = {**good.to_tree(), "state_dict": good.state_dict, "format": 1}
    torch.save(legacy, tmp_path / "best.pt")
    with pytest.raises(LegacyCheckpointError):
        load_checkpoint(tmp_path / "best.pt")
    trusted = load_checkpoint(tmp_path / "best.pt", trust_checkpoint=True)
    assert trusted.to_tree() == good.to_tree()
    main(["convert", str(tmp_path / "best.pt"), "--trust"])
    assert not (tmp_path / "best.pt").exists()
    converted = load_checkpoint(tmp_path / BEST_FILE)
    assert all(torch.equal(converted.state_dict[k], v) for k, v in good.state_dict.items())


def test_convert_without_trust_reads_nothing(tmp_path, capsys) -> None:
    marker = tmp_path / "ran"
    _malicious_pickle(tmp_path / "best.pt", marker)
    code, err = _cli("convert", str(tmp_path), capsys=capsys)
    assert code == 2 and "--trust" in err and len(err.strip().splitlines()) == 1
    assert not marker.exists() and (tmp_path / "best.pt").exists()


def test_local_pretrained_weights_load_without_unpickling_objects(tmp_path) -> None:
    marker = tmp_path / "ran"
    weights = _malicious_pickle(tmp_path / "test_resnet.pth", marker)
    with pytest.raises(ValueError, match="test_resnet.pth"):
        train(tiny_config(number_of_epochs=1, pretrained=str(weights)), tiny_dataset())
    assert not marker.exists()


# -- resume states ---------------------------------------------------------------------------
def test_a_malicious_resume_pt_runs_nothing(tmp_path) -> None:
    marker = tmp_path / "ran"
    path = _malicious_pickle(tmp_path / "resume.pt", marker, resume_header=True)
    with pytest.raises(LegacyCheckpointError, match="resume.pt"):
        load_resume(path)
    assert not marker.exists()


def test_a_resume_state_of_another_owner_is_refused(tmp_path) -> None:
    (tmp_path / OWNER_FILE).write_text(json.dumps({"sweep_id": "a", "trial_id": "t0"}))
    path = save_resume(tmp_path / RESUME_FILE, {"epoch": 1, "model": {"w": torch.ones(2)}})
    assert load_resume(path)["epoch"] == 1
    (tmp_path / OWNER_FILE).write_text(json.dumps({"sweep_id": "b", "trial_id": "t0"}))
    with pytest.raises(ForeignResumeError, match="sweep a"):
        load_resume(path)


def test_a_resume_state_round_trips_every_kind_of_value(tmp_path) -> None:
    state = {
        "epoch": 3,
        "model": {"w": torch.arange(4.0)},
        "optimizer": {
            "state": {0: {"step": torch.tensor(3.0)}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0], "foreach": None}],
        },
        "big": 2**100,
        "nan": float("nan"),
        "history": [(1, {"accuracy": 0.5})],
        "$odd": {"$tensor": "not a tensor"},
    }
    back = load_resume(save_resume(tmp_path / RESUME_FILE, state))
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert torch.equal(back["optimizer"]["state"][0]["step"], torch.tensor(3.0))
    assert back["big"] == 2**100 and back["nan"] != back["nan"]
    assert back["history"] == [(1, {"accuracy": 0.5})]
    assert back["$odd"] == {"$tensor": "not a tensor"}  # data, not a marker
    assert torch.equal(back["model"]["w"], torch.arange(4.0))


def test_an_object_that_is_not_data_is_never_written(tmp_path) -> None:
    with pytest.raises(TypeError, match="/x"):
        write_tensor_file(tmp_path / "f", TensorFileKind.RESUME, {"x": object()})
    assert not (tmp_path / "f").exists()


def test_the_resume_tree_has_no_pickle(trained) -> None:
    stored = read_tensor_file(trained / RESUME_FILE, TensorFileKind.RESUME)
    assert stored.meta["format"] == "automl_vision.resume"
    assert b"\x80\x04" not in (trained / RESUME_FILE).read_bytes()[:8]
    assert isinstance(stored.tree["progress"]["best"]["fields"], dict)


# -- other files of a sweep folder -----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"format": 1, "entries": [{"shape": "x", "peak_bytes": "abc", "identity_hash": "t"}]}',
        '{"format": 1, "entries": [{"shape": "x", "peak_bytes": 1e400, "identity_hash": "t"}]}',
        '{"format": 1, "entries": "!!python/object/apply:os.system"}',
        '["a list"]',
    ],
)
def test_a_hostile_memory_probe_cache_is_refused_in_one_line(tmp_path, text) -> None:
    (tmp_path / "memory_probe.json").write_text(text)
    shape = Shape(model="test_resnet", crop=16, batch=4)

    def probe(shapes):
        return {s: 1000 for s in shapes}

    with pytest.raises(ValueError, match="memory_probe.json") as caught:
        step_peaks([shape], tmp_path, identity={"a": 1}, probe=probe)
    assert "\n" not in str(caught.value)


def test_a_hostile_metrics_json_is_never_read(tmp_path, capsys) -> None:
    """metrics.json is an output: no command reads it back (a planted one changes nothing)."""
    result = tune(
        tiny_dataset(),
        search_space=tiny_space(number_of_epochs=1),
        max_trials=1,
        output_dir=tmp_path / "run",
        progress=False,
    )
    planted = '{"trials": [{"__class__": "os.system"}], "best": "!!python/object"}'
    (tmp_path / "run" / "metrics.json").write_text(planted)
    code, _ = _cli("status", str(tmp_path / "run"), capsys=capsys)
    assert code == 0
    assert load_model(tmp_path / "run").class_names == result_class_names(result)


def result_class_names(result) -> list[str]:
    return list(load_checkpoint(result.best_checkpoint).class_names)


# -- trial folders of another sweep ----------------------------------------------------------
def _sweep(data, out: Path, lr, **options):
    return tune(
        data,
        search_space=tiny_space(number_of_epochs=1, learning_rate=choice(*lr)),
        sampling="grid",
        output_dir=out,
        progress=False,
        **options,
    )


def test_a_new_sweep_never_adopts_leftover_trial_folders(digits_folder, tmp_path) -> None:
    out = tmp_path / "run"
    first = _sweep(digits_folder, out, (0.01, 0.05))
    (out / SweepStore.FILENAME).unlink()
    for name in ("-wal", "-shm"):
        (out / (SweepStore.FILENAME + name)).unlink(missing_ok=True)
    with pytest.raises(ForeignTrialFolderError, match="trials.*no sweep record.*--force"):
        _sweep(digits_folder, out, (0.2, 0.3))
    second = _sweep(digits_folder, out, (0.2, 0.3), force=True)
    assert [len(t.reports) for t in second.trials] == [1, 1]  # trained, not adopted
    assert [t.value for t in second.trials] != [t.value for t in first.trials]
    assert list((out / "trials.aside").iterdir())  # the old folders kept, moved aside


def test_resume_refuses_a_folder_of_another_sweep(digits_folder, tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _sweep(digits_folder, a, (0.01, 0.05))
    _sweep(digits_folder, b, (0.01, 0.05))
    # b's trial_0001 folder replaced by a's: same trial id, another sweep
    os.rename(b / "trials" / "trial_0001", tmp_path / "b1")
    os.rename(a / "trials" / "trial_0001", b / "trials" / "trial_0001")
    with pytest.raises(
        ForeignTrialFolderError, match="trial_0001.*names trial trial_0001 of sweep"
    ):
        _sweep(digits_folder, b, (0.01, 0.05), max_trials=3)


def test_resume_refuses_a_folder_whose_configuration_differs(digits_folder, tmp_path) -> None:
    out = tmp_path / "run"
    _sweep(digits_folder, out, (0.01, 0.05))
    owner = out / "trials" / "trial_0000" / OWNER_FILE
    record = json.loads(owner.read_text())
    owner.write_text(json.dumps({**record, "config_key": "0" * 20}))
    with pytest.raises(ForeignTrialFolderError, match="trial_0000.*configuration"):
        _sweep(digits_folder, out, (0.01, 0.05))


def test_a_folder_that_is_no_trial_of_the_sweep_is_refused_on_the_command_line(
    digits_folder, tmp_path, capsys
) -> None:
    job = write_job(tmp_path / "job.yaml", str(digits_folder), limits={"max_trials": 1})
    out = tmp_path / "run"
    assert main(["tune", "-c", str(job), "--output-dir", str(out), "-q"]) == 0
    capsys.readouterr()
    planted = out / "trials" / "trial_0042"
    planted.mkdir()
    (planted / RESUME_FILE).write_bytes(b"x")
    before = sorted(p.name for p in out.rglob("*"))
    code, err = _cli("tune", "-c", str(job), "--output-dir", str(out), "-q", capsys=capsys)
    errors = [line for line in err.splitlines() if "error" in line]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err
    assert "trial_0042: not a trial of this sweep" in errors[0] and "--force" in errors[0]
    assert sorted(p.name for p in out.rglob("*")) == before  # nothing moved or written
    code, err = _cli(
        "tune", "-c", str(job), "--output-dir", str(out), "-q", "--force", capsys=capsys
    )
    assert code == 0 and not planted.exists() and (out / "trials.aside").is_dir()


def test_the_owner_record_is_written_before_the_trial_runs(digits_folder, tmp_path) -> None:
    out = tmp_path / "run"
    result = _sweep(digits_folder, out, (0.01,))
    store = SweepStore.open_readonly(out / SweepStore.FILENAME)
    try:
        sweep_id = store.meta()["sweep_id"]
    finally:
        store.close()
    record = json.loads((out / "trials" / "trial_0000" / OWNER_FILE).read_text())
    assert record["sweep_id"] == sweep_id and record["trial_id"] == "trial_0000"
    stored = read_tensor_file(out / "trials" / "trial_0000" / RESUME_FILE, TensorFileKind.RESUME)
    assert json.loads(stored.meta["owner"]) == record
    assert result.trials[0].status.value == "COMPLETED"


def test_pickle_is_not_imported_by_the_loaders() -> None:
    """No loader unpickles arbitrary objects, trusted or not."""
    sources = {
        p.relative_to(ROOT).as_posix(): p.read_text()
        for p in (ROOT / "automl_vision").rglob("*.py")
    }
    loads = [name for name, text in sources.items() if "weights_only=False" in text]
    assert loads == []
    assert pickle.HIGHEST_PROTOCOL  # (the test module itself pickles the payloads)


def test_a_checkpoint_object_round_trips(trained) -> None:
    good = load_checkpoint(trained / BEST_FILE)
    back = Checkpoint.from_tree(good.to_tree(), good.state_dict, "x")
    assert back.to_tree() == good.to_tree()


def test_a_hostile_onnx_file_is_one_line(trained, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    run = tmp_path / "run"
    run.mkdir()
    (run / BEST_FILE).write_bytes((trained / BEST_FILE).read_bytes())
    (run / "best.onnx").write_bytes(b"\x08\x07garbage, not a graph")
    with pytest.raises(ValueError, match="best.onnx: not an ONNX model") as caught:
        load_model(run, onnx=True)
    assert "\n" not in str(caught.value)
    (run / "best.onnx").unlink()
    (run / "best.onnx").symlink_to(tmp_path / "elsewhere.onnx")
    (tmp_path / "elsewhere.onnx").write_bytes(b"x")
    with pytest.raises(ValueError, match="symbolic link"):
        load_model(run, onnx=True)


def test_train_never_trains_silently_over_a_release_1_resume_state(tmp_path) -> None:
    marker = tmp_path / "ran"
    _malicious_pickle(tmp_path / "resume.pt", marker, resume_header=True)
    with pytest.raises(LegacyCheckpointError, match="convert"):
        train(tiny_config(number_of_epochs=1), tiny_dataset(), output_dir=tmp_path, resume=True)
    assert not marker.exists() and (tmp_path / "resume.pt").exists()


def test_even_a_trusted_pickle_cannot_run_code(tmp_path) -> None:
    marker = tmp_path / "ran"
    best = _malicious_pickle(tmp_path / "best.pt", marker)
    with pytest.raises(CorruptCheckpointError, match="refused even when trusted"):
        load_checkpoint(best, trust_checkpoint=True)
    resume = _malicious_pickle(tmp_path / "resume.pt", marker, resume_header=True)
    with pytest.raises(CorruptCheckpointError, match="refused even when trusted"):
        load_resume(resume, trust=True)
    assert not marker.exists()
