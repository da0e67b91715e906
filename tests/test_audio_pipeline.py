"""Real MIDI -> FluidSynth audio -> the three features -> the audio embedders.

End-to-end on real scores: a piano-midi file (when the corpus is present) and a
music21 chorale (always), rendered through FluidSynth, turned into log-mel, cyclic
tempogram and CENS chroma on one frame grid, and embedded by both audio
embedders inside scikit-learn pipelines.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

pytest.importorskip("librosa", reason='needs pip install ".[audio]"')

from sklearn_musemb.audio import (  # noqa: E402
    LogMelSpectrogram,
    MultiInputFeatures,
    TrackEmbedder,
    make_rendered_clips,
    render_midi,
)
from sklearn_musemb.audio.labels import pitch_class_histogram  # noqa: E402
from sklearn_musemb.embedders import (  # noqa: E402
    ConditionalSimilarityEmbedder,
    TagTripletEmbedder,
)
from sklearn_musemb.io import load_music21_corpus, read_midi  # noqa: E402

SR = 22050


@pytest.mark.usefixtures("fluidsynth")
def test_real_midi_file_renders_and_gives_all_three_features(piano_midi_root):
    path = piano_midi_root / "midis" / "Albeniz" / "alb_esp1.mid"
    audio = render_midi(path, SR, program="piano", start_s=5.0, duration_s=6.0)
    segments = audio.reshape(2, 3 * SR)  # two 3 s segments
    features = MultiInputFeatures().fit(segments)
    maps = features.transform(segments)
    assert features.input_bands_ == (128, 30, 12)
    assert maps.shape == (2, 170, 259) and np.isfinite(maps).all()
    mel, tempo, chroma = np.split(maps, np.cumsum(features.input_bands_)[:-1], axis=1)
    assert mel.std() > 0.5  # z-scored log-mel of real music, not silence
    assert tempo.std() > 0 and chroma.std() > 0
    # CENS frames are unit-norm chroma vectors (or zero in silence)
    norms = np.linalg.norm(chroma, axis=1)
    assert ((np.abs(norms - 1) < 1e-3) | (norms < 1e-6)).all()
    # the chroma heard is the chroma written: the three strongest pitch classes
    # of the audio are those sounding longest in the score's excerpt (C#, E, A)
    written = pitch_class_histogram(read_midi(path), 5.0, 11.0)
    heard = chroma.sum(axis=(0, 2))
    assert set(np.argsort(heard)[-3:]) == set(np.argsort(written)[-3:])


@pytest.mark.slow
@pytest.mark.usefixtures("fluidsynth")
def test_music21_chorales_render_and_embed_end_to_end(tmp_path):
    corpus = load_music21_corpus(
        "bach", max_pieces_per_composer=2, cache_dir=tmp_path / "m21"
    )
    clips = make_rendered_clips(
        corpus,
        programs=("piano", "organ"),
        tempo_factors=(1.0, 1.25),
        clip_s=6.0,
        cache_dir=tmp_path / "clips",
    )
    frame = clips.frame
    assert len(frame) == 2 * 2 * len(corpus.pieces) and not clips.skipped
    assert set(frame["instrument"]) == {"piano", "organ"}
    assert (frame["tempo_bpm"] > 0).all()

    # paper 002: multi-input CSN on 3 s segments, a track = mean of its segments
    csn = ConditionalSimilarityEmbedder(
        rules={"tempo_bpm": "tempo", "key": "key"},
        inputs=(128, 30, 12),
        embedding_dim=12,
        module__width=2,
        module__n_blocks=1,
        module__branch_blocks=1,
        max_epochs=1,
        batch_size=16,
        random_state=0,
    )
    tracks = TrackEmbedder(make_pipeline(MultiInputFeatures(), csn), segment_s=3.0)
    Z = tracks.fit(clips.audio, frame[["instrument", "tempo_bpm", "key"]]).transform(
        clips.audio
    )
    assert Z.shape == (len(frame), 12) and np.isfinite(Z).all()
    assert tracks.estimator_[-1].dimensions_ == ["instrument", "tempo_bpm", "key"]

    # paper 004: 6 s of 80-band log-mel from a 3 s offset would need 9 s clips;
    # here the whole 6 s clip is the excerpt (80 x 130 maps)
    tags = [
        [f"instrument:{i}", f"key:{k}"] for i, k in zip(frame.instrument, frame.key)
    ]
    tagger = make_pipeline(
        LogMelSpectrogram.schindler_knees_2019(),
        TagTripletEmbedder(
            embedding_dim=8, module__channels=(2, 4), max_epochs=1, random_state=0
        ),
    )
    E = tagger.fit(clips.audio, tags, tagtripletembedder__groups=frame.piece_id)
    assert E[0].transform(clips.audio).shape[1:] == (80, 130)
    assert E.transform(clips.audio).shape == (len(frame), 8)
