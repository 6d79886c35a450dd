"""QR codes for certificates: segno's encoder, with the data-mask choice done in numpy.

segno (``make_qr``: model 2 only — phones cannot read Micro QR) spends most of its time trying its eight data
masks in pure Python. Here segno encodes once with mask 0; the unmasked modules are recovered, the eight
candidates are formed and scored with the ISO/IEC 18004 penalty rules as array operations, and the format
information of the winning mask is written in. Everything that depends only on the symbol version (the
encoding region, the mask patterns, where the format information goes and its value for each mask) is
derived from segno itself once per version, and a test checks the result equals ``segno.make_qr(..., mask=k)``
for every mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import segno
from segno import encoder

ERROR_LEVEL = "m"


@dataclass(frozen=True)
class _VersionTables:
    region: np.ndarray  # True where data and error-correction modules are (the masks apply there)
    patterns: tuple[np.ndarray, ...]  # mask k's pattern, within the region
    format_cells: np.ndarray  # True where the format information goes
    format_values: tuple[np.ndarray, ...]  # its modules for mask k
    stacked_patterns: np.ndarray  # the same, stacked for scoring all masks at once
    stacked_format_values: np.ndarray


def _matrix(code: segno.QRCode) -> np.ndarray:
    size = len(code.matrix)
    return np.frombuffer(b"".join(code.matrix), dtype=np.uint8).reshape(size, size).astype(bool)


@cache
def _tables(version: int) -> _VersionTables:
    size = version * 4 + 17
    function = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function, size, size)
    encoder.add_alignment_patterns(function, size, size)
    function[-8][8] = 0x1  # the dark module, as segno marks it
    region = np.array([[cell > 0x1 for cell in row] for row in function], dtype=bool)
    patterns = tuple(
        np.array([[bool(mask(i, j)) for j in range(size)] for i in range(size)], dtype=bool) & region
        for mask in encoder.get_data_mask_functions(False)
    )
    # A dummy text of this version under each mask shows where the format information goes and its value.
    samples = [
        _matrix(segno.make_qr("0", version=version, error=ERROR_LEVEL, mask=k, boost_error=False))
        for k in range(8)
    ]
    differs = np.zeros((size, size), dtype=bool)
    for sample in samples[1:]:
        differs |= sample != samples[0]
    format_cells = differs & ~region
    values = tuple(sample[format_cells] for sample in samples)
    return _VersionTables(region, patterns, format_cells, values, np.stack(patterns), np.stack(values))


def _run_penalties(candidates: np.ndarray) -> np.ndarray:
    """N1 for each candidate: a run of five or more same-coloured modules in a row scores 3 + (length - 5).
    A sentinel column keeps runs from continuing into the next row, so every row of every candidate is
    scored in one pass."""
    count, size, _ = candidates.shape
    padded = np.full((count, size, size + 1), 2, dtype=np.int8)
    padded[:, :, :size] = candidates
    flat = padded.ravel()
    starts = np.concatenate(([0], np.flatnonzero(flat[1:] != flat[:-1]) + 1))
    lengths = np.diff(np.append(starts, flat.size))
    scored = (flat[starts] != 2) & (lengths >= 5)
    owner = starts[scored] // (size * (size + 1))
    return np.bincount(owner, weights=lengths[scored] - 2, minlength=count).astype(np.int64)


# 1011101 with four light modules after it, or before it, read as 11-bit numbers.
_FINDER_LIKE = (0b10111010000, 0b00001011101)


def _finder_penalties(candidates: np.ndarray) -> np.ndarray:
    """N3: each 1:1:3:1:1 finder-like pattern with four light modules on one side scores 40. Every
    11-module window is read as an 11-bit number by shifting and adding whole arrays."""
    total = np.zeros(candidates.shape[0], dtype=np.int64)
    for lines in (candidates, candidates.transpose(0, 2, 1)):
        width = lines.shape[2] - 10
        windows = np.zeros((*lines.shape[:2], width), dtype=np.int16)
        for offset in range(11):
            windows = (windows << 1) | lines[:, :, offset : offset + width]
        total += ((windows == _FINDER_LIKE[0]) | (windows == _FINDER_LIKE[1])).sum(axis=(1, 2))
    return 40 * total


def penalties(candidates: np.ndarray) -> np.ndarray:
    """The ISO/IEC 18004 7.8.3.1 penalty of each candidate symbol (N1 + N2 + N3 + N4)."""
    runs = _run_penalties(candidates) + _run_penalties(candidates.transpose(0, 2, 1).copy())
    top_left = candidates[:, :-1, :-1]
    same_below = top_left == candidates[:, 1:, :-1]
    blocks = (same_below & (top_left == candidates[:, :-1, 1:]) & (top_left == candidates[:, 1:, 1:])).sum(
        axis=(1, 2)
    )
    balance = (np.abs(candidates.mean(axis=(1, 2)) * 100 - 50) // 5).astype(np.int64) * 10
    return runs + 3 * blocks + _finder_penalties(candidates) + balance


@dataclass(frozen=True)
class QrSymbol:
    modules: np.ndarray  # True = dark, without the quiet zone
    version: int
    mask: int


def make_symbol(text: str) -> QrSymbol:
    first = segno.make_qr(text, error=ERROR_LEVEL, mask=0, boost_error=False)
    version = int(first.version)
    tables = _tables(version)
    unmasked = _matrix(first) ^ tables.patterns[0]
    candidates = unmasked[None, :, :] ^ tables.stacked_patterns
    candidates[:, tables.format_cells] = tables.stacked_format_values
    mask = int(np.argmin(penalties(candidates)))
    return QrSymbol(candidates[mask], version, mask)
