"""The followir-mini builder: strict validation of topic sources, deterministic output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from followir.build.mini import OUTPUT_FILES, POOL_EXTRA, build_mini, load_source, stale_files
from followir.data.registry import load_dir
from followir.errors import DataError

OG = (
    "A relevant document describes how solar panels are installed on the roofs of houses, "
    "including mounting, wiring and inspection. Documents about solar farms on open land are "
    "not relevant, and neither are documents about solar water heating or about electricity "
    "prices without installation details."
)
CONSTRAINT = "Only installations in Norway are relevant; installations elsewhere are not relevant."
KIND_LABELS = {"kept": (1, 1), "excluded": (1, 0), "trap": (1, 0), "hard_negative": (0, 0)}


def _text(tid: str, i: int, n: int = 70) -> str:
    return " ".join(f"{tid}w{i}x{j}" for j in range(n))


def make_topic(tid: str, kinds: dict[str, int] | None = None) -> dict:
    """A valid source: 6 kept, 3 excluded, 3 trap, 18 hard negatives (30 passages)."""
    kinds = kinds or {"kept": 6, "excluded": 3, "trap": 3, "hard_negative": 18}
    passages = []
    for kind, n in kinds.items():
        for _ in range(n):
            i = len(passages) + 1
            og, changed = KIND_LABELS[kind]
            passages.append({"id": f"{tid}-p{i:02d}", "title": f"Title {i}", "text": _text(tid, i),
                             "og": og, "changed": changed, "kind": kind})
    return {"id": tid, "domain": "energy", "query": "rooftop solar installation",
            "instruction_og": OG, "instruction_changed": OG + " " + CONSTRAINT,
            "passages": passages}


def write_topic(d: Path, topic: dict) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{topic['id']}.json"
    path.write_text(json.dumps(topic, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    d = tmp_path / "sources"
    write_topic(d, make_topic("t01"))
    write_topic(d, make_topic("t02"))
    return d


def _passage(topic: dict, pid: str) -> dict:
    return next(p for p in topic["passages"] if p["id"] == pid)


# -- validation: each bad source is named by file and id ---------------------------------------
def _short_text(t: dict) -> None:
    _passage(t, "t01-p05")["text"] = _text("t01", 5, 59)


def _long_text(t: dict) -> None:
    _passage(t, "t01-p05")["text"] = _text("t01", 5, 201)


def _wrong_labels(t: dict) -> None:
    _passage(t, "t01-p05")["changed"] = 1 if _passage(t, "t01-p05")["kind"] == "trap" else 0


def _trap_relabelled(t: dict) -> None:
    trap = next(p for p in t["passages"] if p["kind"] == "trap")
    trap["changed"] = 1


def _unknown_kind(t: dict) -> None:
    _passage(t, "t01-p05")["kind"] = "maybe"


def _duplicate_id(t: dict) -> None:
    _passage(t, "t01-p06")["id"] = "t01-p05"


def _bad_prefix(t: dict) -> None:
    _passage(t, "t01-p05")["id"] = "x99-p05"


def _missing_field(t: dict) -> None:
    del _passage(t, "t01-p05")["title"]


def _label_not_binary(t: dict) -> None:
    _passage(t, "t01-p05")["og"] = 2


def _label_float(t: dict) -> None:
    _passage(t, "t01-p05")["og"] = 1.0  # equals 1 in Python, but not a label a reviewer wrote


def _label_bool(t: dict) -> None:
    _passage(t, "t01-p05")["og"] = True


def _too_few(t: dict) -> None:
    del t["passages"][-1]


def _no_negation(t: dict) -> None:
    og = ("A relevant document describes how solar panels are installed on the roofs of houses, "
          "including mounting, wiring, inspection, permits, roof strength, the choice of inverter, "
          "and the experience of the owners during and after the work on their homes in any country.")
    t["instruction_og"], t["instruction_changed"] = og, og + " " + CONSTRAINT


def _short_og(t: dict) -> None:
    og = "Rooftop solar installation; solar farms are not relevant."
    t["instruction_og"], t["instruction_changed"] = og, og + " " + CONSTRAINT


def _changed_not_extension(t: dict) -> None:
    t["instruction_changed"] = CONSTRAINT + " " + OG


def _missing_topic_field(t: dict) -> None:
    del t["domain"]


CASES = [
    (_short_text, r"t01-p05.*59 words"),
    (_long_text, r"t01-p05.*201 words"),
    (_wrong_labels, r"t01-p05.*kind '\w+' needs og="),
    (_trap_relabelled, r"kind 'trap' needs og=1, changed=0"),
    (_unknown_kind, r"t01-p05.*unknown kind 'maybe'"),
    (_duplicate_id, r"duplicate passage id 't01-p05'"),
    (_bad_prefix, r"x99-p05.*must start with the topic id 't01-'"),
    (_missing_field, r"t01-p05.*missing field\(s\) title"),
    (_label_not_binary, r"t01-p05.*'og' must be 0 or 1"),
    (_label_float, r"t01-p05.*'og' must be 0 or 1, not 1\.0"),
    (_label_bool, r"t01-p05.*'og' must be 0 or 1, not True"),
    (_too_few, r"29 passages; a topic needs at least 30"),
    (_no_negation, r"instruction_og states no exclusion"),
    (_short_og, r"instruction_og has 8 words"),
    (_changed_not_extension, r"instruction_changed must be instruction_og followed by"),
    (_missing_topic_field, r"missing topic field\(s\) domain"),
]


@pytest.mark.parametrize(("mutate", "pattern"), CASES, ids=[c[0].__name__ for c in CASES])
def test_bad_source_is_rejected_naming_file_and_id(tmp_path: Path, mutate, pattern: str) -> None:
    topic = make_topic("t01")
    mutate(topic)
    path = write_topic(tmp_path / "src", topic)
    with pytest.raises(DataError, match=pattern) as info:
        load_source(path)
    assert info.value.path == str(path)
    assert "t01.json" in str(info.value)


@pytest.mark.parametrize(
    ("kinds", "pattern"),
    [
        # 2 of 14 relevant change: 0.14 < 0.3
        ({"kept": 12, "excluded": 1, "trap": 1, "hard_negative": 18}, r"removes 0\.14 of the 14"),
        # 10 of 12 relevant change: 0.83 > 0.7
        ({"kept": 2, "excluded": 5, "trap": 5, "hard_negative": 18}, r"removes 0\.83 of the 12"),
        ({"kept": 6, "excluded": 6, "trap": 0, "hard_negative": 18}, r"no passage of kind trap"),
    ],
)
def test_kind_mix_is_checked(tmp_path: Path, kinds: dict[str, int], pattern: str) -> None:
    path = write_topic(tmp_path, make_topic("t01", kinds))
    with pytest.raises(DataError, match=pattern):
        load_source(path)


def test_ratio_bounds_are_inclusive(tmp_path: Path) -> None:
    # 3 of 10 relevant change: exactly 0.3 is accepted
    path = write_topic(tmp_path, make_topic("t01", {"kept": 7, "excluded": 2, "trap": 1,
                                                    "hard_negative": 20}))
    assert load_source(path).kind_counts()["kept"] == 7


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t01.json"
    path.write_text('{\n "id": "t01",\n "domain": oops\n}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"t01\.json:3: invalid JSON"):
        load_source(path)


def test_topic_id_must_match_file_name(tmp_path: Path) -> None:
    topic = make_topic("t01")
    path = tmp_path / "t07.json"
    path.write_text(json.dumps(topic), encoding="utf-8")
    with pytest.raises(DataError, match=r"topic id 't01' must match the file name 't07'"):
        load_source(path)


def test_passage_id_shared_across_topics_is_rejected(tmp_path: Path) -> None:
    # ids must start with their topic id, so a clash needs one topic id prefixing another
    d = tmp_path / "src"
    write_topic(d, make_topic("a-b"))
    outer = make_topic("a")
    outer["passages"][0]["id"] = "a-b-p01"
    write_topic(d, outer)
    with pytest.raises(DataError, match=r"a-b\.json: passage id 'a-b-p01' is also used in .*a\.json"):
        build_mini(d, tmp_path / "out")


def test_no_sources(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no topic sources"):
        build_mini(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(DataError, match="sources directory not found"):
        build_mini(tmp_path / "missing", tmp_path / "out")


def test_nothing_is_written_when_a_source_is_bad(tmp_path: Path) -> None:
    d = tmp_path / "src"
    write_topic(d, make_topic("t01"))
    bad = make_topic("t02")
    bad["passages"][3]["text"] = "too short"
    write_topic(d, bad)
    with pytest.raises(DataError, match="t02-p04"):
        build_mini(d, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# -- the output --------------------------------------------------------------------------------
def test_build_writes_plain_layout_that_loads(sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = build_mini(sources, out)
    for name in OUTPUT_FILES:
        assert (out / name).is_file(), name
    bench = load_dir(out)
    assert sorted(bench.queries) == ["t01", "t02"]
    assert len(bench.corpus) == 60
    assert bench.queries["t01"].extra["domain"] == "energy"
    assert bench.queries["t01"].instruction_changed.endswith(CONSTRAINT)
    # changed docs = excluded + traps = passages 7..12 of make_topic's order
    assert bench.changed_docs()["t01"] == [f"t01-p{i:02d}" for i in range(7, 13)]
    # every judged passage is written, with 0 as well as 1
    assert len(bench.qrels_og["t01"]) == 30 and sum(bench.qrels_og["t01"].values()) == 12
    assert sum(bench.qrels_changed["t01"].values()) == 6
    assert (out / "qrels_og" / "test.tsv").read_text().splitlines()[0] == "query-id\tcorpus-id\tscore"
    # pool: own 30 passages + POOL_EXTRA from the other topic, none judged for this topic
    pool = bench.pools["t01"]
    assert len(pool) == len(set(pool)) == 30 + POOL_EXTRA
    extra = [p for p in pool if not p.startswith("t01-")]
    assert len(extra) == POOL_EXTRA and all(p.startswith("t02-") for p in extra)
    assert manifest["topics"] == 2 and manifest["passages"] == 60
    assert manifest["kinds"] == {"kept": 12, "excluded": 6, "trap": 6, "hard_negative": 36}
    digest = hashlib.sha256((sources / "t01.json").read_bytes()).hexdigest()
    assert manifest["sources"]["t01.json"] == digest


def test_single_topic_pool_has_no_distractors(tmp_path: Path) -> None:
    d = tmp_path / "src"
    write_topic(d, make_topic("t01"))
    build_mini(d, tmp_path / "out")
    assert len(load_dir(tmp_path / "out").pools["t01"]) == 30


def test_build_is_byte_identical(sources: Path, tmp_path: Path) -> None:
    build_mini(sources, tmp_path / "a")
    build_mini(sources, tmp_path / "b")
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_output_does_not_depend_on_passage_order_in_source(sources: Path, tmp_path: Path) -> None:
    build_mini(sources, tmp_path / "a")
    topic = json.loads((sources / "t01.json").read_text())
    topic["passages"].reverse()
    write_topic(sources, topic)
    build_mini(sources, tmp_path / "b")
    for name in OUTPUT_FILES:
        if name != "manifest.json":  # the source hash changes with the file bytes
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_stale_files_detects_edits(sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_mini(sources, out)
    assert stale_files(sources, out) == []
    topic = json.loads((sources / "t02.json").read_text())
    topic["passages"][0]["title"] = "A new title"
    write_topic(sources, topic)
    assert stale_files(sources, out) == ["corpus.jsonl", "manifest.json"]
