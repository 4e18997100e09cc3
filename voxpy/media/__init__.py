"""Media preparation for the pjsua2 player: text-to-speech, conversion to WAV, progress tones.

Everything here is blocking and thread-safe; the runtime calls it from worker threads.
This package is a leaf: it imports only :mod:`voxpy.errors` and third-party libraries.

* :mod:`voxpy.media.tts` - espeak-ng (offline) and gTTS (online, falls back to espeak),
  with an on-disk cache of synthesized WAV files.
* :mod:`voxpy.media.convert` - any WAV/MP3/OGG/FLAC (local or http(s)) to mono 16-bit WAV.
* :mod:`voxpy.media.tones` - one cadence cycle of a country's ringback tone, and the beep
  (``start_playback("tone:beep")``).
"""
