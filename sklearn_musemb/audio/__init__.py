"""Audio: MIDI rendered to audio, audio features as transformers, clip labels.

- Rendering (:mod:`.render`, needs the ``fluidsynth`` program and a General MIDI
  SoundFont, e.g. ``apt-get install fluidsynth timgm6mb-soundfont``):
  :func:`render_midi`, :func:`render_excerpts`; :func:`make_rendered_clips` turns
  a MIDI corpus into labelled clips (composer, era, form, key, tempo,
  instrument) rendered with several instruments and tempo factors.
- Features (:mod:`.features`, needs librosa: ``pip install "sklearn-musemb[audio]"``):
  :class:`LogMelSpectrogram`, :class:`CyclicTempogram`, :class:`CENSChroma` on
  one frame grid (:func:`frame_grid`), stacked by :class:`MultiInputFeatures`.
- Segments (:mod:`.segments`): :func:`segment_audio`, :func:`aggregate_segments`
  and :class:`TrackEmbedder`, which embeds a track as the mean of its segments.
- Labels (:mod:`.labels`): era from year, form from title, key from key
  signatures or estimated, tempo in bpm.
- The papers' own data read from a local copy (:mod:`.datasets`):
  :func:`load_dimsim_triplets`, :func:`load_msd_tag_sets`.
"""

from .clips import CLIP_COLUMNS, make_rendered_clips
from .datasets import load_dimsim_triplets, load_msd_tag_sets
from .features import (
    CENSChroma,
    CyclicTempogram,
    LogMelSpectrogram,
    MultiInputFeatures,
    frame_grid,
)
from .io import load_audio
from .labels import (
    era_from_year,
    estimate_key,
    form_from_title,
    key_of,
    parse_key,
    tempo_bpm,
)
from .render import (
    FluidSynthError,
    FluidSynthNotFoundError,
    SoundFontNotFoundError,
    find_fluidsynth,
    find_soundfont,
    render_excerpts,
    render_midi,
)
from .segments import TrackEmbedder, aggregate_segments, segment_audio

__all__ = [
    "CENSChroma",
    "CLIP_COLUMNS",
    "CyclicTempogram",
    "FluidSynthError",
    "FluidSynthNotFoundError",
    "LogMelSpectrogram",
    "MultiInputFeatures",
    "SoundFontNotFoundError",
    "TrackEmbedder",
    "aggregate_segments",
    "era_from_year",
    "estimate_key",
    "find_fluidsynth",
    "find_soundfont",
    "form_from_title",
    "frame_grid",
    "key_of",
    "load_audio",
    "load_dimsim_triplets",
    "load_msd_tag_sets",
    "make_rendered_clips",
    "parse_key",
    "render_excerpts",
    "render_midi",
    "segment_audio",
    "tempo_bpm",
]
