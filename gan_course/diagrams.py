"""Architecture diagrams drawn by code, one per idea, shown in the lessons that teach them.

Each function returns a ``matplotlib.figure.Figure`` (about 9–10 inches wide, text ≥ 9 pt), never shows or
saves it, and draws the same picture every time. Sizes are the course's own: the DCGAN shapes come from
``models/dcgan.py``'s size formulas, the Transformer and BERT sizes from their config defaults. Coordinates are
in inches (one axes covers the whole figure), so a box of width 1 is one inch wide at any figure size.
``DIAGRAMS`` lists them all by name. Lessons 00, 01, 04–07, 09 and 11.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from gan_course import runtime

FONT, SMALL = 10, 9  # points; nothing smaller is drawn
EDGE = "#333333"
FILL = {"input": "#dbe9f6", "weight": "#fde9c9", "op": "#e3f1d7", "output": "#f6dbe8", "norm": "#ece3f6",
        "pad": "#c8c8c8", "plain": "#ffffff", "note": "#f4f4f4", "frozen": "#e8e8e8", "highlight": "#f4a259"}
ACCENT = ("#c0392b", "#00798c", "#b8860b", "#3f7f5a", "#8d6cab", "#30638e")  # one colour per position/channel
CHANNEL_FILL = ("#f4c2c8", "#b8e0e5", "#fbe3b5", "#cfe5d8")


# ---------------------------------------------------------------- shared drawing helpers
def _canvas(width: float, height: float):
    """A figure whose single, invisible axes measures inches from the bottom-left corner."""
    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _text(ax, x, y, s, size=FONT, **kwargs):
    kwargs.setdefault("ha", "center")
    kwargs.setdefault("va", "center")
    return ax.text(x, y, s, fontsize=size, **kwargs)


def _box(ax, x, y, w, h, label="", fill="plain", size=FONT, edge=EDGE, lw=1.2, **text_kwargs):
    """A rounded box centred on (x, y) with a centred label."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.07",
                                fc=FILL.get(fill, fill), ec=edge, lw=lw))
    if label:
        _text(ax, x, y, label, size, **text_kwargs)


def _node(ax, x, y, r, label="", fill="plain", size=FONT, edge=EDGE, lw=1.2):
    """A circle centred on (x, y): a neuron, a sum or an element-wise operation."""
    ax.add_patch(Circle((x, y), r, fc=FILL.get(fill, fill), ec=edge, lw=lw))
    if label:
        _text(ax, x, y, label, size)


def _arrow(ax, start, end, label="", color=EDGE, lw=1.3, style="-|>", ls="-", rad=0.0, at=0.5,
           offset=(0.0, 0.0), size=SMALL, **text_kwargs):
    """An arrow from ``start`` to ``end``; ``label`` sits at fraction ``at`` along it, shifted by ``offset``."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=11, color=color, lw=lw,
                                 linestyle=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0))
    if label:
        x = start[0] + at * (end[0] - start[0]) + offset[0]
        y = start[1] + at * (end[1] - start[1]) + offset[1]
        _text(ax, x, y, label, size, color=color if color != EDGE else "black", **text_kwargs)


def _path(ax, points, color=EDGE, lw=1.3, ls="-", arrow=True):
    """A polyline through ``points``, with an arrowhead on the last segment."""
    xs, ys = zip(*points)
    ax.plot(xs[:-1] if arrow else xs, ys[:-1] if arrow else ys, color=color, lw=lw, ls=ls,
            solid_capstyle="butt")
    if arrow:
        _arrow(ax, points[-2], points[-1], color=color, lw=lw, ls=ls)


def _grid(ax, left, top, rows, cols, cell, fill=lambda r, c: "plain", label=None, size=SMALL, lw=0.8):
    """A rows × cols grid of square cells, row 0 at the top; ``fill``/``label`` map (r, c) to a colour/text."""
    for r in range(rows):
        for c in range(cols):
            x, y = left + c * cell, top - (r + 1) * cell
            ax.add_patch(Rectangle((x, y), cell, cell, fc=FILL.get(fill(r, c), fill(r, c)), ec=EDGE, lw=lw))
            if label is not None and label(r, c) != "":
                _text(ax, x + cell / 2, y + cell / 2, str(label(r, c)), size)


def _outline(ax, left, bottom, w, h, color, lw=2.6, ls="-"):
    ax.add_patch(Rectangle((left, bottom), w, h, fill=False, ec=color, lw=lw, ls=ls))


def _check(name: str, value, minimum: int = 1, maximum: int | None = None) -> None:
    """``ValueError`` naming ``name`` and ``value`` unless it is an int in [minimum, maximum]."""
    runtime.check_int(name, value, minimum)
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}={value!r} is too large to draw legibly; use at most {maximum}")


# ---------------------------------------------------------------- lesson 01
def fully_connected_layer(n_in: int = 4, n_out: int = 3) -> Figure:
    """Inputs x_i, weights W[j, i] on the edges, Σ + b_j, activation φ, outputs y_j: ``y = φ(W x + b)``."""
    _check("n_in", n_in, 1, 8)
    _check("n_out", n_out, 1, 6)
    gap = 0.8
    body = max(n_in, n_out) * gap
    fig, ax = _canvas(9.0, body + 2.6)
    top = body + 1.95

    def ys(count):
        return [top - 0.2 - (body - count * gap) / 2 - gap * (k + 0.5) for k in range(count)]

    x_in, x_sum, x_act, x_out = 1.0, 5.0, 6.5, 7.9
    for x, title in ((x_in, "inputs x"), (x_sum, "weighted sum + bias"), (x_act, "activation"),
                     (x_out, "outputs y")):
        _text(ax, x, top + 0.15, title, FONT, weight="bold")
    for j, y_out in enumerate(ys(n_out)):  # edges first, so the nodes cover their ends
        for i, y_in in enumerate(ys(n_in)):
            first = j == 0
            _arrow(ax, (x_in + 0.25, y_in), (x_sum - 0.27, y_out), lw=1.4 if first else 0.8,
                   color=ACCENT[1] if first else "#9a9a9a", label=f"$W_{{{j + 1}{i + 1}}}$" if first else "",
                   at=0.22, size=SMALL, bbox=dict(fc="white", ec="none", pad=0.5))
    for i, y in enumerate(ys(n_in)):
        _node(ax, x_in, y, 0.25, f"$x_{i + 1}$", "input")
    for j, y in enumerate(ys(n_out)):
        _node(ax, x_sum, y, 0.27, "Σ", "op", 12)
        _arrow(ax, (x_sum + 0.5, y + 0.36), (x_sum + 0.22, y + 0.16), f"$+b_{j + 1}$", at=0.0, offset=(0.2, 0.06))
        _arrow(ax, (x_sum + 0.27, y), (x_act - 0.3, y))
        _box(ax, x_act, y, 0.6, 0.42, "φ", "norm", 12)
        _arrow(ax, (x_act + 0.3, y), (x_out - 0.25, y))
        _node(ax, x_out, y, 0.25, f"$y_{j + 1}$", "output")
    lines = (
        f"one sample:  y = φ(W x + b),   $y_j = φ(Σ_i\\ W_{{ji}}\\ x_i + b_j)$;   "
        f"W[j, i] joins input i to unit j: W is (n_out, n_in) = ({n_out}, {n_in}), b is ({n_out},)",
        f"a batch:  Y = φ(X Wᵀ + b)   maps X (B, n_in) → Y (B, n_out) = (B, {n_in}) → (B, {n_out});   "
        f"φ: ReLU, tanh, … (identity for logits)",
        f"parameters: n_in·n_out + n_out = {n_in}·{n_out} + {n_out} = {n_in * n_out + n_out}"
        "   (highlighted: row 1 of W, the weights of unit 1)",
    )
    for k, line in enumerate(lines):
        _text(ax, 0.25, 1.25 - 0.42 * k, line, SMALL, ha="left")
    return fig


# ---------------------------------------------------------------- lesson 00
def _strides(shape) -> tuple[int, ...]:
    return tuple(math.prod(shape[d + 1:]) for d in range(len(shape)))


def tensor_strides(shape=(2, 3, 4)) -> Figure:
    """``x = torch.arange(N).view(shape)``: the logical grid, the flat memory, the strides, and a transpose."""
    if not isinstance(shape, (tuple, list)) or len(shape) not in (2, 3):
        raise ValueError(f"shape must be a tuple of 2 or 3 sizes, got {shape!r}")
    for d, size in enumerate(shape):
        _check(f"shape[{d}]", size, 1, 6)
    shape = tuple(shape)
    count = math.prod(shape)
    if count > 36:
        raise ValueError(f"shape={shape} has {count} elements; use at most 36 so every cell stays legible")
    blocks, rows, cols = (1, *shape) if len(shape) == 2 else shape
    names = "ijk"[-len(shape):] if len(shape) == 3 else "jk"
    strides = _strides(shape)
    t_shape = shape[:-2] + (shape[-1], shape[-2])
    t_strides = strides[:-2] + (strides[-1], strides[-2])
    index = (blocks - 1, min(1, rows - 1), min(2, cols - 1))[-len(shape):]
    target = sum(i * s for i, s in zip(index, strides))

    cell = 0.34
    grid_h = max(rows, cols) * cell
    fig, ax = _canvas(10.0, grid_h + 4.95)
    top = grid_h + 3.9

    def offset_fill(offset):
        return "highlight" if offset == target else ("input" if (offset // (rows * cols)) % 2 == 0 else "op")

    def draw(left, n_rows, n_cols, offset_of, title, subtitle, prefix):
        _text(ax, left, top + 0.75, title, FONT, ha="left", family="monospace")
        _text(ax, left, top + 0.42, subtitle, FONT, ha="left")
        for b in range(blocks):
            x0 = left + b * (n_cols * cell + 0.45)
            _grid(ax, x0, top, n_rows, n_cols, cell, lambda r, c: offset_fill(offset_of(b, r, c)),
                  lambda r, c: offset_of(b, r, c))
            if blocks > 1:
                _text(ax, x0 + n_cols * cell / 2, top - n_rows * cell - 0.2, f"{prefix}[{b}]", SMALL)

    dims = ", ".join(map(str, shape))
    draw(0.3, rows, cols, lambda b, r, c: b * rows * cols + r * cols + c, f"x = torch.arange({count}).view({dims})",
         f"shape {shape}, strides {strides}", "x")
    swap = "(1, 2)" if len(shape) == 3 else "(0, 1)"
    draw(5.4, cols, rows, lambda b, r, c: b * rows * cols + c * cols + r, f"t = x.transpose{swap}",
         f"shape {t_shape}, strides {t_strides}", "t")

    # the flat memory, with one arc per stride from offset 0
    cell_w = min(0.4, 9.4 / count)
    y_mem = 2.45
    _text(ax, 0.3, y_mem + 0.62, f"memory: one flat block of {count} numbers, shared by x and t (no copy)",
          FONT, ha="left", weight="bold")
    for offset in range(count):
        fill = offset_fill(offset)
        ax.add_patch(Rectangle((0.3 + offset * cell_w, y_mem), cell_w, cell, fc=FILL.get(fill, fill), ec=EDGE,
                               lw=0.8))
        _text(ax, 0.3 + (offset + 0.5) * cell_w, y_mem + cell / 2, str(offset), SMALL)
    for level, (name, stride) in enumerate(sorted(zip(names, strides), key=lambda p: p[1])):
        if stride < count:  # one arrow per stride, from offset 0 to the next index along that dimension
            y, end = y_mem - 0.2 - 0.3 * level, 0.3 + (stride + 0.5) * cell_w
            _arrow(ax, (0.3 + 0.5 * cell_w, y), (end, y), color=ACCENT[level * 2])
            _text(ax, end + 0.1, y, f"stride {stride}: +{stride} to the next {name}", SMALL, ha="left",
                  color=ACCENT[level * 2])
    term = " + ".join(f"{s}·{name}" for s, name in zip(strides, names))
    numbers = " + ".join(f"{s}·{i}" for s, i in zip(strides, index))
    bracket = ", ".join(names)
    where = ", ".join(map(str, index))
    t_where = ", ".join(map(str, index[:-2] + (index[-1], index[-2])))
    notes = (
        f"offset of x[{bracket}] = {term};   x[{where}] = t[{t_where}] sits at {numbers} = {target}",
        "transpose swaps two strides and moves no number: t is not contiguous, so t.view(…) raises and "
        "t.reshape(…) copies",
        f"reading t row by row visits offsets {', '.join(str(o) for o in _visit_order(t_shape, t_strides))}, …  "
        "(contiguous means 0, 1, 2, …)",
    )
    for k, line in enumerate(notes):
        _text(ax, 0.3, 1.2 - 0.38 * k, line, SMALL, ha="left")
    return fig


def _visit_order(shape, strides, count=6):
    offsets = []
    for flat in range(min(count, math.prod(shape))):
        index, rest = [], flat
        for size in reversed(shape):
            rest, i = divmod(rest, size)
            index.append(i)
        offsets.append(sum(i * s for i, s in zip(reversed(index), strides)))
    return offsets


# ---------------------------------------------------------------- lesson 04
def _conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """``⌊(n + 2p − k)/s⌋ + 1`` (dilation 1), the size the diagram draws; ``nn.Conv2d`` agrees (tested)."""
    return (size + 2 * padding - kernel) // stride + 1


def convolution_stride_padding(stride: int = 2, padding: int = 1, kernel: int = 3, size: int = 5) -> Figure:
    """The padded input, the kernel window of successive outputs, and ⌊(n + 2p − k)/s⌋ + 1 with the numbers."""
    _check("stride", stride, 1, 4)
    _check("padding", padding, 0, 2)
    _check("kernel", kernel, 1, 5)
    _check("size", size, 1, 8)
    padded = size + 2 * padding
    if kernel > padded:
        raise ValueError(f"kernel={kernel} is larger than the padded input n + 2p = {size} + 2·{padding} = {padded}")
    out = _conv_output_size(size, kernel, stride, padding)
    positions = [(0, c) for c in range(min(out, 3))] + ([(1, 0)] if out > 1 else [])
    panel = 1.95
    cell = min(0.24, 1.7 / padded)
    fig, ax = _canvas(10.0, padded * cell + 3.1)
    top = padded * cell + 2.05
    _text(ax, 0.25, top + 0.7, f"input {size}×{size}, padding p = {padding} (grey zeros), kernel k = {kernel}, "
          f"stride s = {stride}: the window moves {stride} cell{'s' if stride > 1 else ''} per output",
          FONT, ha="left", weight="bold")
    for n, (r, c) in enumerate(positions):
        left = 0.25 + n * panel
        _grid(ax, left, top, padded, padded, cell,
              lambda i, j: "pad" if min(i, j) < padding or max(i, j) >= padding + size else "input")
        color = ACCENT[n]
        _outline(ax, left + c * stride * cell, top - (r * stride + kernel) * cell, kernel * cell, kernel * cell,
                 color)
        _text(ax, left + padded * cell / 2, top - padded * cell - 0.25, f"{n + 1} · y[{r}, {c}]", FONT, color=color,
              weight="bold")
        rows = f"{r * stride}–{r * stride + kernel - 1}"
        cols = f"{c * stride}–{c * stride + kernel - 1}"
        _text(ax, left + padded * cell / 2, top - padded * cell - 0.55, f"rows {rows}, cols {cols}", SMALL)
    left = 0.25 + len(positions) * panel + 0.2
    out_cell = min(0.3, 1.5 / out)
    _grid(ax, left, top, out, out, out_cell, lambda i, j: "output",
          lambda i, j: next((f"{n + 1}" for n, p in enumerate(positions) if p == (i, j)), ""))
    for n, (r, c) in enumerate(positions):
        _outline(ax, left + c * out_cell, top - (r + 1) * out_cell, out_cell, out_cell, ACCENT[n], lw=2.2)
    _text(ax, left + out * out_cell / 2, top - out * out_cell - 0.25, f"output {out}×{out}", FONT, weight="bold")
    unused = (padded - kernel) % stride
    lines = [f"output size = ⌊(n + 2p − k)/s⌋ + 1 = ⌊({size} + 2·{padding} − {kernel})/{stride}⌋ + 1 = {out}",
             "rows and columns are counted in the padded input (0 = the first padding row)"]
    if unused:
        last = "the last padded row and column" if unused == 1 else f"the last {unused} padded rows and columns"
        lines[1] = f"{last} are never read: the floor drops a window that would not fit"
    _text(ax, 0.25, 0.85, lines[0], FONT + 1, ha="left")
    _text(ax, 0.25, 0.4, lines[1], SMALL, ha="left")
    return fig


def multichannel_convolution(c_in: int = 3, c_out: int = 2, kernel: int = 3) -> Figure:
    """Weight (C_out, C_in, k, k): every output channel sums the convolutions of ALL input channels, + bias."""
    _check("c_in", c_in, 1, 4)
    _check("c_out", c_out, 1, 4)
    _check("kernel", kernel, 1, 5)
    row_h = 1.35
    fig, ax = _canvas(10.0, c_out * row_h + 2.9)
    top = c_out * row_h + 1.55
    header = (f"input x: (B, C_in, H, W) = (B, {c_in}, H, W)      weight W: (C_out, C_in, k, k) = "
              f"({c_out}, {c_in}, {kernel}, {kernel})      bias b: (C_out,) = ({c_out},)")
    _text(ax, 0.25, top + 1.0, header, SMALL, ha="left")
    _text(ax, 0.25, top + 0.6, "y[o] = b[o] + Σ_c x[c] ∗ W[o, c]   (∗: slide the k×k kernel over the channel, "
          "multiply, sum)", FONT, ha="left", weight="bold")
    kcell = 0.42 / max(kernel, 3)
    kw = kernel * kcell
    pair = 1.4 + kw
    for o in range(c_out):
        y = top - (o + 0.45) * row_h
        for c in range(c_in):  # each row reads the whole input: every output channel sees every input channel
            x0 = 0.3 + c * pair
            _box(ax, x0 + 0.28, y, 0.56, 0.56, f"x[{c}]", CHANNEL_FILL[c], SMALL)
            _text(ax, x0 + 0.75, y, "∗", 14)
            _grid(ax, x0 + 0.95, y + kw / 2, kernel, kernel, kcell, lambda r, k: CHANNEL_FILL[c], lw=0.6)
            _text(ax, x0 + 0.95 + kw / 2, y - 0.4, f"W[{o}, {c}]", SMALL)
            _text(ax, x0 + pair - 0.22, y, "+", 14)
        x_end = 0.3 + c_in * pair
        _box(ax, x_end + 0.3, y, 0.6, 0.45, f"b[{o}]", "weight", SMALL)
        _text(ax, x_end + 0.82, y, "=", 14)
        _box(ax, x_end + 1.35, y, 0.7, 0.7, f"y[{o}]", "output", FONT)
        _path(ax, [(0.3, y - 0.52), (0.3, y - 0.6), (x_end - 0.4, y - 0.6), (x_end - 0.4, y - 0.52)],
              color=ACCENT[1], arrow=False)
        _text(ax, (0.3 + x_end - 0.4) / 2, y - 0.6, f"sum over all C_in = {c_in} input channels", SMALL,
              color=ACCENT[1], bbox=dict(fc="white", ec="none", pad=1))
    params = c_out * c_in * kernel * kernel + c_out
    footer = (f"output y: (B, C_out, H′, W′) = (B, {c_out}, H′, W′).   One filter is C_in×k×k = {c_in}×{kernel}×"
              f"{kernel}, not k×k.   Parameters: C_out·C_in·k·k + C_out = {c_out}·{c_in}·{kernel}·{kernel} + "
              f"{c_out} = {params}",
              "Convolving each channel on its own (no sum over c) is a different layer: groups=C_in, a depthwise "
              "convolution.")
    for k, line in enumerate(footer):
        _text(ax, 0.25, 0.75 - 0.38 * k, line, SMALL, ha="left")
    return fig


DIAGRAMS = {function.__name__: function for function in (
    fully_connected_layer, tensor_strides, convolution_stride_padding, multichannel_convolution)}
