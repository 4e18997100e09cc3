"""Narrow-band measurements on one window: single-bin DFTs (Goertzel) and sinusoid fits.

Goertzel is one DFT bin; evaluated for a handful of frequencies at once it is a small
matrix product, which numpy does in C: 2.6 us for the 8 DTMF bins of a 20 ms frame at 8 kHz,
against 138 us for the textbook Goertzel recursion in a Python loop (measured here).

Every product here is ``np.einsum``, never ``@``: ``@`` hands even an 8x160 product to
OpenBLAS, which runs it on its thread pool, and those threads spin between calls. Through
real calls in-band DTMF then cost 8.5% of a core per call instead of 0.6%
(``bench/hearing_calls.py``); einsum stays on the calling thread (2.6 us against 1.2 us).
:class:`ToneFit` goes one step further for tone sets whose members are closer than a bin
(US ringback 440+480 Hz, UK 400+450 Hz in a 60 ms window): a least-squares fit of sines and
cosines at exactly those frequencies, so the share of the window's energy they explain does
not depend on how close they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from voxpy.media.hearing.frames import Samples

Complex = npt.NDArray[np.complex128]


def sum_of_squares(x: Samples) -> float:
    """A window's energy (einsum: see the module doc)."""
    return float(np.einsum("i,i->", x, x))


class BinBank:
    """DFT bins at arbitrary ``frequencies`` for windows of ``size`` samples at ``rate``."""

    __slots__ = ("_basis", "frequencies", "size")

    def __init__(self, frequencies: Sequence[float], rate: int, size: int) -> None:
        self.frequencies = np.asarray(frequencies, dtype=np.float64)
        self.size = size
        n = np.arange(size)
        self._basis: Complex = np.exp(-2j * np.pi * np.outer(self.frequencies, n) / rate)

    def amplitudes(self, window: Samples) -> Samples:
        """The peak amplitude of a sine at each frequency (exact for a tone on a bin)."""
        bins: Complex = np.einsum("ij,j->i", self._basis, window)
        return np.abs(bins) * (2.0 / self.size)


class ToneFit:
    """The share of a window's energy explained by sines at exactly ``frequencies``."""

    __slots__ = ("_q", "frequencies")

    def __init__(self, frequencies: Sequence[float], rate: int, size: int) -> None:
        self.frequencies = tuple(frequencies)
        n = np.arange(size) / rate
        columns = []
        for f in frequencies:
            columns += [np.cos(2 * np.pi * f * n), np.sin(2 * np.pi * f * n)]
        self._q, _ = np.linalg.qr(np.stack(columns, axis=1))

    def share(self, window: Samples, energy: float) -> float:
        """0..1: how much of ``energy`` (the window's sum of squares) the fit explains."""
        if energy <= 0:
            return 0.0
        projected = np.einsum("ji,j->i", self._q, window)
        return sum_of_squares(projected) / energy
