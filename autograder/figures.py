"""Pictures for the student's HTML report, drawn in the trusted judge from numbers.

A judge attaches one with one call: `Verdict.passed(..., figures=image_grid(...))`. Each helper
returns a tuple of figures, empty when the numbers are not a picture (not numeric, the wrong size,
not finite): they come from the student's outputs, and a bad picture is left out, never an error
nor a lost point. Only a visible check's figures reach a report (the runner removes the others').
"""

from __future__ import annotations

import base64
import io
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from autograder.results import MAX_IMAGE_ROWS, MAX_TABLE_ROWS, MAX_TILES, Figure, ImageGrid, ImageRow, Table, Tile

MAX_SIDE = 64
"""The largest image side, in pixels, a figure draws (MNIST's 28 and CIFAR-10's 32 fit)."""
DRAWN_SIDE = 64
"""About how wide a tile is drawn: small images are enlarged by a whole factor, pixels kept sharp."""
MAX_FIGURE_CHARS = 256 << 10
"""The most base64 a figure's PNGs may take: noise compresses badly, and a student's outputs can be noise."""
CAPTION_CHARS = 32
CELL_CHARS = 120


class _NotAPicture(Exception):
    """The numbers given cannot be drawn as asked."""


def image_grid(title: str, rows: Sequence[tuple[str, Any]], *, shape: tuple[int, ...],
               captions: Mapping[int, Sequence[str]] | None = None, value_range: tuple[float, float] = (0.0, 1.0),
               channels_first: bool = False) -> tuple[Figure, ...]:
    """Rows of images side by side, at most `MAX_TILES` a row.

    rows: (label, images) each; images an array of any layout holding whole images of `shape`, (H, W)
    for grey, (H, W, 3) for colour, or (3, H, W) with `channels_first`; the first few are drawn.
    captions: by row index, a short text under each tile. value_range: the values drawn black and
    white (clipped outside). A figure whose PNGs would weigh more than MAX_FIGURE_CHARS is left out."""
    try:
        built = tuple(ImageRow(label=label, tiles=_tiles(images, shape, value_range, channels_first,
                                                         (captions or {}).get(i, ())))
                      for i, (label, images) in enumerate(rows[:MAX_IMAGE_ROWS]))
    except _NotAPicture:
        return ()
    if sum(len(tile.png) for row in built for tile in row.tiles) > MAX_FIGURE_CHARS:
        return ()
    return (ImageGrid(title=title, rows=built),)


def table(title: str, columns: Mapping[str, Iterable[Any]]) -> tuple[Figure, ...]:
    """A small table, given column by column (header: cells). A cell that is a list is shown as its
    items joined by commas; a column shorter than the others leaves its cells empty."""
    try:
        cells = [_cells(column) for column in columns.values()]
        rows = tuple(itertools.islice(itertools.zip_longest(*cells, fillvalue=""), MAX_TABLE_ROWS))
    except _NotAPicture:
        return ()
    return (Table(title=title, header=tuple(columns), rows=rows),)


HEAT_CELL = 16
"""Drawn side of a heat map's cell, in CSS pixels (the PNG holds one pixel a cell, enlarged sharp)."""
HEAT_LOW, HEAT_HIGH = (255, 255, 255), (8, 48, 107)
"""The colours of a heat map's smallest and largest values (white to dark blue)."""


def heat_map(title: str, matrix: Any, row_labels: Sequence[str], col_labels: Sequence[str]) -> tuple[Figure, ...]:
    """A matrix (a confusion table, counts) as a heat map, darker for larger values, then its numbers in
    a table whose first column and header are the labels. Empty when the matrix is not a finite numeric
    array of shape (len(row_labels), len(col_labels))."""
    if not isinstance(matrix, np.ndarray) or matrix.dtype.kind not in "biuf" \
            or matrix.shape != (len(row_labels), len(col_labels)) or matrix.size == 0 \
            or max(matrix.shape) > MAX_SIDE or not np.all(np.isfinite(matrix)):
        return ()
    values = matrix.astype(np.float64)
    span = values.max() - values.min()
    share = (values - values.min()) / span if span > 0 else np.zeros_like(values)
    low, high = np.array(HEAT_LOW, dtype=np.float64), np.array(HEAT_HIGH, dtype=np.float64)
    pixels = np.rint(low + share[..., None] * (high - low)).astype(np.uint8)
    factor = max(1, min(HEAT_CELL, 256 // max(matrix.shape)))
    tile = Tile(png=_png(pixels), width=factor * matrix.shape[1], height=factor * matrix.shape[0],
                caption=_short(f"{values.min():.4g} (white) to {values.max():.4g}", CAPTION_CHARS))
    rows = tuple((_short(str(label), CELL_CHARS), *(f"{v:.0f}" if v.is_integer() and abs(v) < 1e15 else f"{v:.4g}"
                                                          for v in row))
                 for label, row in zip(row_labels[:MAX_TABLE_ROWS], values.tolist()))
    return (ImageGrid(title=title, rows=(ImageRow(label="darker: larger", tiles=(tile,)),)),
            Table(title=title, header=("", *(_short(str(c), CELL_CHARS) for c in col_labels)), rows=rows))


def _cells(column: Iterable[Any]) -> list[str]:
    if not isinstance(column, list | tuple | range | np.ndarray):
        raise _NotAPicture
    return [_short(", ".join(map(str, cell[:MAX_TABLE_ROWS])) if isinstance(cell, list | tuple) else str(cell),
                   CELL_CHARS) for cell in column[:MAX_TABLE_ROWS]]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _tiles(images: Any, shape: tuple[int, ...], value_range: tuple[float, float], channels_first: bool,
           captions: Sequence[str]) -> tuple[Tile, ...]:
    pixels = _pixels(images, shape, value_range, channels_first)
    factor = max(1, DRAWN_SIDE // max(pixels.shape[1:3]))
    height, width = (factor * side for side in pixels.shape[1:3])
    texts = [_short(str(c), CAPTION_CHARS) for c in captions[:len(pixels)]] if isinstance(captions, list | tuple) else []
    texts += [""] * (len(pixels) - len(texts))
    return tuple(Tile(png=_png(p), width=width, height=height, caption=text) for p, text in zip(pixels, texts))


def _pixels(images: Any, shape: tuple[int, ...], value_range: tuple[float, float], channels_first: bool) -> np.ndarray:
    """The first images of `images` as uint8 (n, H, W) or (n, H, W, 3)."""
    colour = len(shape) == 3
    sides = shape[1:] if colour and channels_first else shape[:2]
    if len(shape) not in (2, 3) or max(sides) > MAX_SIDE or colour and shape[0 if channels_first else 2] != 3:
        raise ValueError(f"a figure draws (H, W) or colour images of sides up to {MAX_SIDE}, not {shape}")
    if not isinstance(images, np.ndarray) or images.dtype.kind not in "biuf" \
            or images.size == 0 or images.size % math.prod(shape):
        raise _NotAPicture
    chosen = images.reshape(-1, *shape)[:MAX_TILES].astype(np.float64)
    if not np.all(np.isfinite(chosen)):
        raise _NotAPicture
    if colour and channels_first:
        chosen = chosen.transpose(0, 2, 3, 1)
    low, high = value_range
    return np.rint(np.clip((chosen - low) / (high - low), 0.0, 1.0) * 255).astype(np.uint8)


def _png(pixels: np.ndarray) -> str:
    from PIL import Image  # pillow, a dependency; imported only when a picture is drawn

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
