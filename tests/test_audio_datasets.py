"""Readers of the papers' annotations: Dim-Sim triplets and MSD tag sets."""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_musemb.audio.datasets import (
    TRIPLET_COLUMNS,
    load_dimsim_triplets,
    load_msd_tag_sets,
)

DIMSIM_HEADER = (
    "anchor_id,anchor_start_seconds,song1_id,song1_start_seconds,"
    "song2_id,song2_start_seconds,song1_vote"
)


def _write(path, text):
    path.write_text(text)
    return path


# --------------------------------------------------------------------- Dim-Sim


def test_published_layout_orients_triplets_by_the_vote(tmp_path):
    path = _write(
        tmp_path / "clean-dim-sim.csv",
        f"{DIMSIM_HEADER}\n"
        "TRAAA,12.0,TRBBB,30.5,TRCCC,0,1\n"
        "TRDDD,3,TREEE,4,TRFFF,5,0\n",
    )
    triplets = load_dimsim_triplets(path)
    assert list(triplets.columns) == list(TRIPLET_COLUMNS)
    assert triplets[["anchor", "positive", "negative"]].values.tolist() == [
        ["TRAAA", "TRBBB", "TRCCC"],
        ["TRDDD", "TRFFF", "TREEE"],
    ]
    np.testing.assert_allclose(triplets["anchor_start_s"], [12.0, 3.0])
    np.testing.assert_allclose(triplets["positive_start_s"], [30.5, 5.0])
    np.testing.assert_allclose(triplets["negative_start_s"], [0.0, 4.0])
    assert triplets["agreement"].isna().all()
    with pytest.raises(ValueError, match="no agreement information"):
        load_dimsim_triplets(path, min_agreement=0.9)


def test_vote_counts_give_agreement_and_the_filter(tmp_path):
    path = _write(
        tmp_path / "dim-sim.csv",
        f"{DIMSIM_HEADER},song2_vote\n"
        "A1,0,B1,0,C1,0,9,1\n"  # 90% for song 1
        "A2,0,B2,0,C2,0,1,4\n"  # 80% for song 2
        "A3,0,B3,0,C3,0,2,2\n",  # tie
    )
    triplets = load_dimsim_triplets(path)
    np.testing.assert_allclose(triplets["agreement"], [0.9, 0.8, 0.5])
    assert triplets["positive"].tolist() == ["B1", "C2", "B3"]
    high = load_dimsim_triplets(path, min_agreement=0.9)
    assert high["anchor"].tolist() == ["A1"]
    assert high.index.tolist() == [0]


def test_agreement_column_in_percent_and_oriented_layout(tmp_path):
    path = _write(
        tmp_path / "oriented.csv",
        "anchor,positive,negative,agreement\nA,P,N,95\nB,Q,M,60\n",
    )
    triplets = load_dimsim_triplets(path, min_agreement=0.9)
    assert triplets[["anchor", "positive", "negative"]].values.tolist() == [
        ["A", "P", "N"]
    ]
    assert triplets["agreement"].tolist() == [0.95]
    assert triplets["anchor_start_s"].isna().all()


def test_column_mapping(tmp_path):
    path = _write(tmp_path / "mine.csv", "ref,x,y,choice\nR,X,Y,0\n")
    triplets = load_dimsim_triplets(
        path,
        columns={"anchor": "ref", "song1": "x", "song2": "y", "song1_vote": "choice"},
    )
    assert triplets[["anchor", "positive", "negative"]].values.tolist() == [
        ["R", "Y", "X"]
    ]
    with pytest.raises(ValueError, match="'nope' .* is not in mine.csv"):
        load_dimsim_triplets(path, columns={"anchor": "nope"})
    with pytest.raises(ValueError, match="unknown Dim-Sim column role"):
        load_dimsim_triplets(path, columns={"query": "ref"})


def test_bad_triplet_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="gone.csv"):
        load_dimsim_triplets(tmp_path / "gone.csv")
    wrong = _write(tmp_path / "wrong.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(
        ValueError, match=r"not a Dim-Sim triplet file.*\['a', 'b', 'c'\]"
    ):
        load_dimsim_triplets(wrong)
    text = _write(tmp_path / "text.csv", f"{DIMSIM_HEADER}\nA,0,B,0,C,0,yes\n")
    with pytest.raises(ValueError, match="row 2: song1_vote must be a number"):
        load_dimsim_triplets(text)
    share = _write(tmp_path / "share.csv", f"{DIMSIM_HEADER}\nA,0,B,0,C,0,0.7\n")
    with pytest.raises(ValueError, match="0 or 1 without a song2_vote"):
        load_dimsim_triplets(share)


# ------------------------------------------------------------------ MSD tag sets


@pytest.fixture
def tag_folder(tmp_path):
    folder = tmp_path / "msd-tags"
    folder.mkdir()
    _write(
        folder / "genres.cls",
        "# AllMusic genres\n"
        "TRAAAAK128F9318786\tPop_Rock\n"
        "TRAAAAV128F421A322\tJazz\tBlues\n"
        "\n"
        "TRAAAAK128F9318786\tElectronic\tPop_Rock\n",
    )
    _write(folder / "moods.tsv", "track_id\tmoods\nTRAAAAK128F9318786\tCalm\tWarm\n")
    _write(folder / "README.md", "not a tag file\n")
    return folder


def test_folder_of_tag_sets(tag_folder):
    tags = load_msd_tag_sets(tag_folder)
    assert list(tags.columns) == ["genres", "moods"]
    assert tags.index.name == "track_id"
    assert tags.index.tolist() == ["TRAAAAK128F9318786", "TRAAAAV128F421A322"]
    assert tags.loc["TRAAAAK128F9318786"].tolist() == [
        ["Pop_Rock", "Electronic"],
        ["Calm", "Warm"],
    ]
    assert tags.loc["TRAAAAV128F421A322", "moods"] == []
    inner = load_msd_tag_sets(tag_folder, how="inner")
    assert inner.index.tolist() == ["TRAAAAK128F9318786"]


def test_mapping_and_single_file(tag_folder):
    tags = load_msd_tag_sets(
        {"mood": tag_folder / "moods.tsv", "genre": tag_folder / "genres.cls"}
    )
    assert list(tags.columns) == ["mood", "genre"]
    single = load_msd_tag_sets(tag_folder / "genres.cls")
    assert list(single.columns) == ["genres"] and len(single) == 2


def test_bad_tag_files_are_named(tmp_path, tag_folder):
    with pytest.raises(FileNotFoundError, match="styles.cls"):
        load_msd_tag_sets({"styles": tmp_path / "styles.cls"})
    empty = _write(tmp_path / "empty.cls", "# nothing\n")
    with pytest.raises(ValueError, match="empty.cls holds no track"):
        load_msd_tag_sets(empty)
    no_tags = _write(tmp_path / "notags.cls", "TR1\tRock\nTR2\n")
    with pytest.raises(ValueError, match="notags.cls, line 2: track 'TR2' has no tags"):
        load_msd_tag_sets(no_tags)
    with pytest.raises(ValueError, match="how"):
        load_msd_tag_sets(tag_folder, how="left")
    with pytest.raises(FileNotFoundError, match="nothing' .* not found"):
        load_msd_tag_sets(tmp_path / "nothing")  # neither folder nor file
    (tmp_path / "nothing").mkdir()
    with pytest.raises(FileNotFoundError, match="no tag-set files"):
        load_msd_tag_sets(tmp_path / "nothing")


def test_tag_sets_feed_the_lsi_transformer(tag_folder):
    pytest.importorskip("gensim", reason="LSITagTransformer needs gensim")
    from sklearn_musemb.tags import LSITagTransformer

    tags = load_msd_tag_sets(tag_folder)
    lsi = LSITagTransformer(n_topics=2, random_state=0).fit(tags)
    assert lsi.n_tags_ == 6  # 4 genres and 2 moods
    assert "moods:Calm" in lsi.dictionary_.token2id  # tags prefixed by their set
    assert lsi.transform(tags).shape == (2, 2)
