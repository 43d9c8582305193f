"""Reading capture CSV files: rooms, malformed rows with line numbers, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lighting_replay_trainer.cli import main
from lighting_replay_trainer.sources import SourceError, csv_files, read_csv

HEADER = "timestamp,datetime,sensor_id,value\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_become_sorted_readings_per_room(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mixed.csv",
        HEADER
        + "120.0,x,front-room,3.5\n"
        + "60.0,x,front-room,2.5\n"
        + "60.5,x,back-room,-1.0\n"
        + "61.0,x,1,40\n",
    )
    readings = read_csv([path], rooms={"1": "back-room"})
    assert readings.problems == []
    assert sorted(readings.rooms) == ["back-room", "front-room"]
    front = readings.rooms["front-room"]
    np.testing.assert_array_equal(front.timestamps_s, [60.0, 120.0])
    np.testing.assert_array_equal(front.lux, [2.5, 3.5])
    back = readings.rooms["back-room"]
    np.testing.assert_array_equal(back.timestamps_s, [60.5, 61.0])
    np.testing.assert_array_equal(back.lux, [-1.0, 40.0])


def test_malformed_rows_are_skipped_with_their_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "room.csv",
        HEADER
        + "60,x,room,1.0\n"  # line 2: good
        + "120,x,room,2.0,extra\n"  # line 3: too many fields
        + "\n"  # line 4: blank, ignored
        + "180,x,room\n"  # line 5: too few fields
        + "abc,x,room,4.0\n"  # line 6: bad timestamp
        + "240,x,room,bright\n"  # line 7: bad value
        + "300,x,,6.0\n"  # line 8: no sensor
        + "360,x,room,nan\n"  # line 9: not a finite value
        + "420,x,room,7.0\n",  # line 10: good
    )
    readings = read_csv([path])
    lines = [(p.line, p.reason) for p in readings.problems]
    assert [line for line, _ in lines] == [3, 5, 6, 7, 8, 9]
    assert "more" in lines[0][1]
    assert "fewer" in lines[1][1]
    assert "timestamp" in lines[2][1]
    assert "'bright'" in lines[3][1]
    assert "sensor_id" in lines[4][1]
    assert all(p.path == str(path) for p in readings.problems)
    np.testing.assert_array_equal(readings.rooms["room"].timestamps_s, [60.0, 420.0])
    np.testing.assert_array_equal(readings.rooms["room"].lux, [1.0, 7.0])


def test_line_numbers_stay_right_without_field_count_errors(tmp_path: Path) -> None:
    """The fast parser path (no rows with extra fields) numbers lines too."""
    path = write(
        tmp_path / "room.csv",
        HEADER + "60,x,room,1\n\n120,x,room,oops\n180,x,room,3\n",
    )
    readings = read_csv([path])
    assert [(p.line, p.reason) for p in readings.problems] == [(4, "bad value 'oops'")]
    assert len(readings.rooms["room"]) == 2


def test_a_folder_stands_for_its_csv_files(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", HEADER + "60,x,a,1\n")
    write(tmp_path / "b.csv", HEADER + "60,x,b,2\n")
    write(tmp_path / "notes.txt", "not a capture")
    assert [p.name for p in csv_files([tmp_path])] == ["a.csv", "b.csv"]
    assert sorted(read_csv([tmp_path]).rooms) == ["a", "b"]


def test_missing_and_foreign_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        read_csv([tmp_path / "absent.csv"])
    with pytest.raises(SourceError, match="not a capture file"):
        read_csv([write(tmp_path / "other.csv", "a,b,c\n1,2,3\n")])
    with pytest.raises(SourceError, match="empty"):
        read_csv([write(tmp_path / "empty.csv", "")])
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    with pytest.raises(SourceError, match=r"no \.csv files"):
        read_csv([empty_dir])


def test_a_file_without_sensor_column_is_one_room(tmp_path: Path) -> None:
    path = write(tmp_path / "hall.csv", "timestamp,value\n60,1.5\n120,2.5\n")
    assert list(read_csv([path]).rooms) == ["hall"]


def test_the_command_reports_skipped_rows_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path / "room.csv", HEADER + "60,x,room,1\n120,x,room,??\n180,x,room,3\n"
    )
    code = main(
        [
            "train",
            "--csv",
            str(path),
            "--latitude",
            "37.37",
            "--longitude",
            "-122.04",
            "--timezone",
            "America/Los_Angeles",
            "-o",
            str(tmp_path / "model.json"),
        ]
    )
    err = capsys.readouterr().err
    assert f"skipped {path}:3: bad value '??'" in err
    # Three readings are far too little to learn from: a clear refusal.
    assert code == 2
    assert "no room could be trained" in err
    assert not (tmp_path / "model.json").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["train", "--csv", "/nonexistent/room.csv", "--latitude", "1",
             "--longitude", "2", "--timezone", "UTC", "-o", "m.json"],
            "/nonexistent/room.csv: no such file or folder",
        ),
        (
            ["generate", "--model", "/nonexistent/model.json", "--start",
             "2024-01-01", "--days", "1", "-o", "-"],
            "/nonexistent/model.json: no such model file",
        ),
        (
            ["generate", "--model", "m.json", "--start", "2024-13-01",
             "--days", "1", "-o", "-"],
            "not a date YYYY-MM-DD: '2024-13-01'",
        ),
        (
            ["train", "--csv", "x.csv", "--latitude", "north", "--longitude",
             "2", "--timezone", "UTC", "-o", "m.json"],
            "not a number: 'north'",
        ),
        (["train", "--csv", "x.csv"], "the following arguments are required"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (
            ["train", "--csv", "x.csv", "--latitude", "1", "--longitude", "2",
             "--timezone", "Mars/Olympus", "-o", "m.json"],
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            ["train", "--recorder-db", "/nonexistent.db", "--latitude", "1",
             "--longitude", "2", "--timezone", "UTC", "-o", "m.json"],
            "--recorder-db needs at least one --entity",
        ),
    ],
)  # fmt: skip
def test_user_mistakes_are_one_line_and_exit_code_2(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("lighting-replay")
    assert message in lines[0]
    assert "Traceback" not in captured.err


def test_a_corrupted_model_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = write(tmp_path / "model.json", '{"format": "something else"}')
    code = main(
        ["generate", "--model", str(model), "--start", "2024-01-01", "--days", "1",
         "-o", "-"]
    )  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert "not a lighting replay model" in err[0]
