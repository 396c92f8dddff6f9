"""Architecture diagrams drawn by code, one per idea, shown in the lessons that teach them.

Each function returns a ``matplotlib.figure.Figure`` in inch coordinates, sized from the course's own models;
``DIAGRAMS`` lists them all by name.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from gan_course.core import conv_arithmetic, plotting, runtime
from gan_course.data import toy_text
from gan_course.models import dcgan

FONT, SMALL = 10, 9  # points; nothing smaller is drawn
EDGE = "#333333"
FILL = {"input": "#dbe9f6", "weight": "#fde9c9", "op": "#e3f1d7", "output": "#f6dbe8", "norm": "#ece3f6",
        "pad": "#c8c8c8", "plain": "#ffffff", "note": "#f4f4f4", "frozen": "#e8e8e8", "highlight": "#f4a259"}
ACCENT = ("#c0392b", "#00798c", "#b8860b", "#3f7f5a", "#8d6cab", "#30638e")  # one colour per position/channel
CHANNEL_FILL = ("#f4c2c8", "#b8e0e5", "#fbe3b5", "#cfe5d8")


# ---------------------------------------------------------------- shared drawing helpers
def _canvas(width: float, height: float):
    """A figure (closed in pyplot, as ``plotting.new_figure`` does: a notebook shows it once, when a cell returns
    it) whose single, invisible axes measures inches from the bottom-left corner."""
    fig, ax = plotting.new_figure(size=(width, height), dpi=100)
    ax.set_position((0, 0, 1, 1))
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


def _grid(ax, left, top, rows, cols, cell, fill=lambda r, c: "plain", label=None, size=SMALL, lw=0.8,
          cell_h=None):
    """A rows × cols grid of cells (square unless ``cell_h``), row 0 at the top; ``fill``/``label`` map (r, c) to
    a colour/text."""
    cell_h = cell_h or cell
    for r in range(rows):
        for c in range(cols):
            x, y = left + c * cell, top - (r + 1) * cell_h
            ax.add_patch(Rectangle((x, y), cell, cell_h, fc=FILL.get(fill(r, c), fill(r, c)), ec=EDGE, lw=lw))
            if label is not None and label(r, c) != "":
                _text(ax, x + cell / 2, y + cell_h / 2, str(label(r, c)), size)


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
    for d, size in enumerate(shape):  # the two swapped sizes ≥ 2, or the transpose would still be contiguous
        _check(f"shape[{d}]", size, 1 if d < len(shape) - 2 else 2, 6)
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
            _grid(ax, x0, top, n_rows, n_cols, cell, lambda r, c, b=b: offset_fill(offset_of(b, r, c)),
                  lambda r, c, b=b: offset_of(b, r, c))
            if blocks > 1:
                _text(ax, x0 + n_cols * cell / 2, top - n_rows * cell - 0.2, f"{prefix}[{b}]", SMALL)

    dims = ", ".join(map(str, shape))
    draw(0.3, rows, cols, lambda b, r, c: b * rows * cols + r * cols + c, f"x = torch.arange({count}).view({dims})",
         f"shape {shape}, strides {strides}", "x")
    swap = "(1, 2)" if len(shape) == 3 else "(0, 1)"
    draw(5.4, cols, rows, lambda b, r, c: b * rows * cols + c * cols + r, f"t = x.transpose{swap}",
         f"shape {t_shape}, strides {t_strides}", "t")

    # the flat memory, with one arrow per stride from offset 0
    cell_w = min(0.4, 9.4 / count)
    y_mem = 2.45
    _text(ax, 0.3, y_mem + 0.62, f"memory: one flat block of {count} numbers, shared by x and t (no copy)",
          FONT, ha="left", weight="bold")
    _grid(ax, 0.3, y_mem + cell, 1, count, cell_w, lambda _, c: offset_fill(c), lambda _, c: c, cell_h=cell)
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
        "transpose swaps two strides and moves no number: t is not contiguous, so t.view(-1) raises and "
        "t.reshape(-1) copies",
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
def convolution_stride_padding(stride: int = 2, padding: int = 1, kernel: int = 3, size: int = 5) -> Figure:
    """The padded input, the kernel window of successive outputs, and ⌊(n + 2p − k)/s⌋ + 1 with the numbers."""
    _check("stride", stride, 1, 4)
    _check("padding", padding, 0, 2)
    _check("kernel", kernel, 1, 5)
    _check("size", size, 1, 8)
    padded = size + 2 * padding
    if kernel > padded:
        raise ValueError(f"kernel={kernel} is larger than the padded input n + 2p = {size} + 2·{padding} = {padded}")
    out = conv_arithmetic.conv_output_size(size, kernel, stride, padding)  # ⌊(n + 2p − k)/s⌋ + 1
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
    numbers = f"⌊({size} + 2·{padding} − {kernel})/{stride}⌋ + 1"
    lines = [f"output size = ⌊(n + 2p − k)/s⌋ + 1 = {numbers} = {out}",
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
            _grid(ax, x0 + 0.95, y + kw / 2, kernel, kernel, kcell, lambda r, k, c=c: CHANNEL_FILL[c], lw=0.6)
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
    footer = (f"output y: (B, C_out, H′, W′) = (B, {c_out}, H′, W′).   One filter is C_in×k×k = "
              f"{c_in}×{kernel}×{kernel}, not k×k.   Parameters: C_out·C_in·k·k + C_out = "
              f"{c_out}·{c_in}·{kernel}·{kernel} + {c_out} = {params}",
              "Convolving each channel on its own (no sum over c) is a different layer: groups=C_in, a depthwise "
              "convolution.")
    for k, line in enumerate(footer):
        _text(ax, 0.25, 0.75 - 0.38 * k, line, SMALL, ha="left")
    return fig


# ---------------------------------------------------------------- lesson 05
def unrolled_rnn(steps: int = 4) -> Figure:
    """The RNN cell folded and unrolled through ``steps`` steps, with the same W_x, W_h, b at every step."""
    _check("steps", steps, 1, 6)
    fig, ax = _canvas(10.0, 5.0)
    y_x, y_cell, y_h = 1.9, 3.0, 4.1
    # folded: one cell and a loop
    _box(ax, 0.9, y_cell, 0.9, 0.55, "cell", "op")
    _arrow(ax, (0.9, y_x + 0.2), (0.9, y_cell - 0.28), "$W_x$", offset=(0.22, 0))
    _node(ax, 0.9, y_x, 0.22, "$x_t$", "input")
    _arrow(ax, (0.9, y_cell + 0.28), (0.9, y_h - 0.22))
    _node(ax, 0.9, y_h, 0.22, "$h_t$", "output")
    _path(ax, [(1.35, y_cell + 0.1), (1.7, y_cell + 0.1), (1.7, y_cell - 0.5), (1.2, y_cell - 0.5),
               (1.2, y_cell - 0.28)])  # h_(t−1) comes back in
    _text(ax, 1.9, y_cell - 0.2, "$W_h$", SMALL)
    _text(ax, 2.25, y_cell, "=", 18)
    # unrolled
    left, right = 3.05, 9.75
    pitch = (right - left) / steps
    _box(ax, 2.75, y_cell, 0.5, 0.45, "$h_0$", "plain")
    _text(ax, 2.75, y_cell - 0.45, "= 0", SMALL)
    for t in range(1, steps + 1):
        x = left + (t - 0.5) * pitch
        _box(ax, x, y_cell, 0.62, 0.55, "tanh", "op")
        prev = 3.0 if t == 1 else x - pitch + 0.31
        _arrow(ax, (prev, y_cell), (x - 0.31, y_cell), "$W_h$", offset=(0, 0.17))
        _node(ax, x, y_x, 0.22, f"$x_{t}$", "input")
        _arrow(ax, (x, y_x + 0.22), (x, y_cell - 0.28), "$W_x$", offset=(0.25, 0))
        _node(ax, x, y_h, 0.22, f"$h_{t}$", "output")
        _arrow(ax, (x, y_cell + 0.28), (x, y_h - 0.22))
    _text(ax, 0.25, 4.75, r"$h_t = \tanh(W_x x_t + W_h h_{t-1} + b)$, $h_0 = 0$:  the SAME $W_x$, $W_h$, $b$ "
          f"at all {steps} steps (shared weights)", FONT + 1, ha="left")
    _text(ax, right, 4.45, f"outputs: every $h_t$, (B, T, H) with T = {steps};  a head reads the last one", SMALL,
          ha="right")
    y_grad = 1.2
    _arrow(ax, (right - 0.3, y_grad), (left + 0.2, y_grad), color=ACCENT[0], ls="--")
    _text(ax, (left + right) / 2, y_grad + 0.22, r"backpropagation through time: $\partial L/\partial h_{t-k}$ is "
          r"a product of k Jacobians $\partial h_t/\partial h_{t-1} = \mathrm{diag}(1 - h_t^2)\,W_h$", SMALL,
          color=ACCENT[0])
    _text(ax, 0.25, 0.6, "shapes: $x_t$ (B, D), $h_t$ (B, H), $W_x$ (H, D), $W_h$ (H, H), b (H,); the whole "
          "sequence x is (B, T, D)", SMALL, ha="left")
    _text(ax, 0.25, 0.25, "a product of k such factors shrinks or grows geometrically with k: vanishing or "
          "exploding gradients through time", SMALL, ha="left")
    return fig


def lstm_cell() -> Figure:
    """One LSTM step: gates f, i, o (σ), candidate g (tanh); c_t = f ⊙ c_(t−1) + i ⊙ g; h_t = o ⊙ tanh(c_t)."""
    fig, ax = _canvas(10.0, 6.4)
    y_bus, y_gate, y_mul, y_cell = 2.15, 3.0, 3.85, 4.85
    cell_color = ACCENT[0]
    ax.add_patch(FancyBboxPatch((1.2, 1.65), 6.6, 3.85, boxstyle="round,pad=0,rounding_size=0.15",
                                fc=FILL["note"], ec="#999999", lw=1.0))
    # the cell state: multiply by f, add i ⊙ g, nothing else
    _text(ax, 0.55, y_cell, "$c_{t-1}$", FONT + 1)
    _arrow(ax, (0.9, y_cell), (2.13, y_cell), color=cell_color, lw=3)
    _node(ax, 2.3, y_cell, 0.17, "×", "plain", FONT, edge=cell_color)
    _arrow(ax, (2.47, y_cell), (4.33, y_cell), color=cell_color, lw=3)
    _node(ax, 4.5, y_cell, 0.17, "+", "plain", FONT + 2, edge=cell_color)
    _arrow(ax, (4.67, y_cell), (8.6, y_cell), color=cell_color, lw=3)
    _text(ax, 8.95, y_cell, "$c_t$", FONT + 1)
    _text(ax, 4.5, 5.22, r"cell state: $c_t = f \odot c_{t-1} + i \odot g$; along this additive path "
          r"$\partial c_t/\partial c_{t-1} = f$ (paths through the gates add more)", SMALL, color=cell_color)
    # inputs: h_(t−1) and x_t feed every gate
    _text(ax, 0.55, 2.35, "$h_{t-1}$", FONT + 1)
    _text(ax, 0.55, 1.95, "$x_t$", FONT + 1)
    _path(ax, [(0.9, 2.35), (1.5, 2.35), (1.5, 1.95), (0.9, 1.95)], arrow=False)
    _path(ax, [(1.5, y_bus), (5.6, y_bus)], arrow=False)
    gates = (("forget\nf = σ(·)", 2.3), ("input\ni = σ(·)", 3.4), ("candidate\ng = tanh(·)", 4.5),
             ("output\no = σ(·)", 5.6))
    for label, x in gates:
        _arrow(ax, (x, y_bus), (x, y_gate - 0.3))
        _box(ax, x, y_gate, 1.0, 0.6, label, "weight" if "tanh" in label else "op", SMALL)
    _arrow(ax, (2.3, y_gate + 0.3), (2.3, y_cell - 0.17))  # f multiplies the old cell
    _node(ax, 4.5, y_mul, 0.17, "×")
    _path(ax, [(3.4, y_gate + 0.3), (3.4, y_mul), (4.33, y_mul)])  # i ⊙ g
    _arrow(ax, (4.5, y_gate + 0.3), (4.5, y_mul - 0.17))
    _arrow(ax, (4.5, y_mul + 0.17), (4.5, y_cell - 0.17))
    # output: h_t = o ⊙ tanh(c_t)
    _arrow(ax, (6.6, y_cell), (6.6, 4.5))
    _box(ax, 6.6, 4.33, 0.6, 0.32, "tanh", "norm", SMALL)
    _arrow(ax, (6.6, 4.17), (6.6, y_mul + 0.17))
    _node(ax, 6.6, y_mul, 0.17, "×")
    _path(ax, [(5.6, y_gate + 0.3), (5.6, y_mul), (6.43, y_mul)])
    _path(ax, [(6.77, y_mul), (7.35, y_mul), (7.35, 5.95)])
    _text(ax, 7.5, 5.95, "$h_t$ (output)", FONT, ha="left")
    _path(ax, [(7.35, y_mul), (7.35, 2.35), (8.6, 2.35)])
    _text(ax, 8.95, 2.35, "$h_t$", FONT + 1)
    lines = (r"f, i, o = σ(·) and g = tanh(·), each of $W_x x_t + W_h h_{t-1} + b$: one (4H, D) and one (4H, H) "
             "matrix, nn.LSTMCell's order i, f, g, o",
             r"$c_t = f \odot c_{t-1} + i \odot g$,   $h_t = o \odot \tanh(c_t)$   (⊙, ×: element-wise);   "
             "$x_t$ (B, D), $h_t$ and $c_t$ (B, H)",
             "forget bias $b_f$ > 0 at the start (σ(1) ≈ 0.73, σ(3) ≈ 0.95): the cell begins by remembering")
    for k, line in enumerate(lines):
        _text(ax, 0.25, 1.2 - 0.38 * k, line, SMALL, ha="left")
    return fig


# ---------------------------------------------------------------- lesson 06
def _stack(ax, x, elements, residuals, y0=0.55, pitch=0.62):
    """Boxes bottom to top along x with arrows between; ``residuals`` are (from, to) index pairs bypassed on
    the left into a ⊕ at ``to``. Returns the y of every element."""
    ys = [y0 + k * pitch for k in range(len(elements))]
    for k, (label, fill, height) in enumerate(elements):
        if k:
            _arrow(ax, (x, ys[k - 1] + elements[k - 1][2] / 2), (x, ys[k] - height / 2))
        if label == "+":
            _node(ax, x, ys[k], height / 2, "+", "plain", FONT + 2)
        else:
            _box(ax, x, ys[k], 3.3, height, label, fill, SMALL)
    for start, end in residuals:  # the skip connection: leave below element ``start``, re-enter at the ⊕
        y_from = ys[start] - elements[start][2] / 2 - 0.13
        _path(ax, [(x, y_from), (x - 1.95, y_from), (x - 1.95, ys[end]), (x - 0.16, ys[end])], color=ACCENT[1])
    return ys


def transformer_block(dim: int = 64, num_heads: int = 4, hidden_dim: int = 128, num_layers: int = 2) -> Figure:
    """Embedding + positional encoding, then N blocks of self-attention and a position-wise feed-forward;
    the course's pre-norm (``norm_first=True``: x + f(LN(x))) beside the paper's post-norm (LN(x + f(x)))."""
    _check("dim", dim, 1)
    _check("num_heads", num_heads, 1)
    _check("hidden_dim", hidden_dim, 1)
    _check("num_layers", num_layers, 1, 96)
    if dim % num_heads:
        raise ValueError(f"dim={dim} is not divisible by num_heads={num_heads}")
    fig, ax = _canvas(10.0, 8.6)
    attention = f"multi-head self-attention\n{num_heads} heads, d_k = D/heads = {dim // num_heads}"
    feed_forward = f"feed-forward {dim}→{hidden_dim}→{dim}, GELU\nsame weights at every position"
    norm, add = ("LayerNorm", "norm", 0.34), ("+", "plain", 0.32)
    embed = (f"token embedding × √D + positional encoding\n(B, T) → (B, T, D), D = {dim}", "input", 0.5)
    tokens, head = ("tokens (B, T)", "plain", 0.34), ("linear head → logits (B, T, outputs)", "output", 0.34)
    columns = (
        (2.55, "course default: pre-norm (norm_first=True)", "x = x + MHA(LN(x));  x = x + FFN(LN(x))",
         [tokens, embed, norm, (attention, "op", 0.5), add, norm, (feed_forward, "weight", 0.5), add, norm, head],
         [(2, 4), (5, 7)], "final\nLayerNorm"),
        (7.45, "original paper: post-norm (norm_first=False)", "x = LN(x + MHA(x));  x = LN(x + FFN(x))",
         [tokens, embed, (attention, "op", 0.5), add, norm, (feed_forward, "weight", 0.5), add, norm, head],
         [(2, 3), (5, 6)], ""))
    for x, title, formula, elements, residuals, note in columns:
        ys = _stack(ax, x, elements, residuals, y0=0.55, pitch=0.72)
        first, last = residuals[0][0], residuals[-1][1] + (0 if note else 1)
        bottom = ys[first] - elements[first][2] / 2 - 0.17
        ax.add_patch(FancyBboxPatch((x - 2.2, bottom), 4.3, ys[last] + 0.3 - bottom,
                                    boxstyle="round,pad=0,rounding_size=0.1", fill=False, ec="#888888", ls="--"))
        _text(ax, x + 2.1, ys[last] + 0.42, f"× N = {num_layers}", FONT, ha="right", weight="bold")
        _text(ax, x - 2.2, 8.25, title, FONT, ha="left", weight="bold")
        _text(ax, x - 2.2, 7.9, formula, SMALL, ha="left")
        if note:
            _text(ax, x + 1.75, ys[-2], "← " + note, SMALL, ha="left", color="#555555")
    _text(ax, 5.0, 7.5, f"sizes: D = {dim}, {num_heads} heads, hidden {hidden_dim}, N = {num_layers} blocks "
          "(TransformerConfig's defaults); every block keeps (B, T, D)", SMALL, color="#555555")
    _text(ax, 5.0, 0.12, "teal lines: residual connections (the input added back);  ToyBert (lesson 07) adds "
          "segment embeddings and an embedding LayerNorm", SMALL, color="#555555")
    return fig


# ---------------------------------------------------------------- lesson 07
BERT_EXAMPLE = ("[CLS]", "the", "cat", "eats", "the", "apple", ".", "[SEP]", "the", "apple", "is", "gone", ".",
                "[SEP]")
BERT_SELECTED = {2: ("[MASK]", "mask"), 9: ("hat", "random"), 11: ("gone", "same")}  # position -> (input, outcome)
BERT_OUTCOMES = {"mask": ("#f4b6b6", "[MASK] in 80 %"), "random": ("#fbe3b5", "a random word in 10 %"),
                 "same": ("#cfe5d8", "unchanged in 10 %")}


def bert_masking() -> Figure:
    """A pair [CLS] A [SEP] B [SEP]: segment ids, the 15 % selection, 80/10/10 replacement, MLM and NSP targets."""
    fig, ax = _canvas(10.0, 5.9)
    count = len(BERT_EXAMPLE)
    left, cell, row_h = 1.75, (10.0 - 1.75 - 0.15) / count, 0.42
    second = BERT_EXAMPLE.index("[SEP]") + 1
    ignored = str(toy_text.IGNORE_INDEX).replace("-", "−")  # the label F.cross_entropy skips
    rows = (
        ("tokens", lambda t: BERT_EXAMPLE[t], lambda t: "plain"),
        ("segment ids", lambda t: str(int(t >= second)), lambda t: "input" if t < second else "op"),
        ("positions", str, lambda t: "plain"),
        ("selected (15 %)", lambda t: "✓" if t in BERT_SELECTED else "", lambda t: "highlight" if t in BERT_SELECTED
         else "plain"),
        ("model input", lambda t: BERT_SELECTED[t][0] if t in BERT_SELECTED else BERT_EXAMPLE[t],
         lambda t: BERT_OUTCOMES[BERT_SELECTED[t][1]][0] if t in BERT_SELECTED else "plain"),
        ("MLM labels", lambda t: BERT_EXAMPLE[t] if t in BERT_SELECTED else ignored,
         lambda t: "highlight" if t in BERT_SELECTED else FILL["note"]),
    )
    top = 4.55
    _text(ax, 0.15, 5.6, "BERT's pre-training input for one sentence pair (lesson 07's grammar)", FONT, ha="left",
          weight="bold")
    for label, first, last in (("sentence A: segment 0", 0, second - 1), ("sentence B: segment 1", second, count - 1)):
        x0, x1 = left + first * cell + 0.05, left + (last + 1) * cell - 0.05
        _path(ax, [(x0, top + 0.08), (x0, top + 0.16), (x1, top + 0.16), (x1, top + 0.08)], arrow=False)
        _text(ax, (x0 + x1) / 2, top + 0.32, label, SMALL)
    for r, (label, text, fill) in enumerate(rows):
        _text(ax, 0.15, top - (r + 0.5) * row_h, label, SMALL, ha="left", weight="bold")
        _grid(ax, left, top - r * row_h, 1, count, cell, lambda _, t, fill=fill: fill(t), lambda _, t, text=text: text(t), lw=0.6,
              cell_h=row_h)
    y = top - len(rows) * row_h - 0.35
    _text(ax, 0.15, y, "each selected word becomes", SMALL, ha="left")
    for k, (color, label) in enumerate(BERT_OUTCOMES.values()):
        x = 2.45 + k * 2.35
        ax.add_patch(Rectangle((x, y - 0.12), 0.3, 0.24, fc=color, ec=EDGE, lw=0.6))
        _text(ax, x + 0.4, y, label, SMALL, ha="left")
    words = sum(not token.startswith("[") for token in BERT_EXAMPLE)
    targets = ", ".join(repr(BERT_EXAMPLE[t]) for t in sorted(BERT_SELECTED))
    notes = ("only words can be selected, never [CLS], [SEP] or [PAD]; this pair shows one selected word per outcome "
             f"(on average 15 % of {words} words ≈ {0.15 * words:.1f})",
             f"MLM loss: cross-entropy at the selected positions only (label {ignored} = ignored); the model must "
             f"predict {targets}",
             "NSP label 1 (IsNext): B is A's own second sentence; half the pairs get another story's B (label 0); "
             "predicted from h at [CLS]",
             "loss = MLM + NSP;  input embedding = token + position + segment, then LayerNorm")
    for k, line in enumerate(notes):
        _text(ax, 0.15, y - 0.45 - 0.36 * k, line, SMALL, ha="left")
    return fig


# ---------------------------------------------------------------- lesson 09
def gan_training_loop() -> Figure:
    """One iteration: D's step with G frozen, then G's step with D frozen (its gradient flows through D)."""
    fig, ax = _canvas(10.0, 6.3)
    grad = ACCENT[0]
    panels = (
        ("1 · D step: G frozen", "fakes made under no_grad and detached", True,
         "d_loss = softplus(−real_logits) + softplus(fake_logits)\n= −log D(x) − log(1 − D(G(z)))",
         "the gradient stops at D", "d_optimizer.step(): only D's weights move"),
        ("2 · G step: D frozen", "D's requires_grad off, but D still passes gradients", False,
         "g_loss = softplus(−fake_logits) = −log D(G(z))\n(non-saturating; no real batch needed)",
         "the gradient flows back through D into G", "g_optimizer.step(): only G's weights move"),
    )
    for n, (title, subtitle, d_step, loss, path_note, update) in enumerate(panels):
        x0 = 0.2 + n * 5.0
        _text(ax, x0, 5.95, title, FONT + 1, ha="left", weight="bold")
        _text(ax, x0, 5.6, subtitle, SMALL, ha="left", color="#555555")
        g_state, d_state = ("frozen", "trained") if d_step else ("trained", "frozen")
        _box(ax, x0 + 0.6, 4.6, 1.05, 0.6, "z ~ N(0, I)\n(B, Z)", "input", SMALL)
        _arrow(ax, (x0 + 1.13, 4.6), (x0 + 1.6, 4.6))
        _box(ax, x0 + 2.05, 4.6, 0.9, 0.6, f"G\n({g_state})", "op" if g_state == "trained" else "frozen", SMALL)
        _arrow(ax, (x0 + 2.5, 4.6), (x0 + 3.0, 4.6))
        _box(ax, x0 + 3.55, 4.6, 1.1, 0.6, "fake = G(z)" + ("\n.detach()" if d_step else ""), "output", SMALL)
        _path(ax, [(x0 + 3.55, 4.3), (x0 + 3.55, 2.9), (x0 + 2.5, 2.9)])
        _text(ax, x0 + 3.65, 3.6, "fake", SMALL, ha="left")
        if d_step:
            _box(ax, x0 + 0.6, 3.6, 1.05, 0.6, "real x\n(data batch)", "input", SMALL)
            _path(ax, [(x0 + 0.6, 3.3), (x0 + 0.6, 2.9), (x0 + 1.6, 2.9)])
        _box(ax, x0 + 2.05, 2.9, 0.9, 0.6, f"D\n({d_state})", "op" if d_state == "trained" else "frozen", SMALL)
        _arrow(ax, (x0 + 1.9, 2.6), (x0 + 1.9, 1.9), "real_logits, fake_logits" if d_step else "fake_logits",
               offset=(-0.1, 0), ha="right")
        _box(ax, x0 + 2.2, 1.55, 4.2, 0.7, loss, "note", SMALL)
        _arrow(ax, (x0 + 2.2, 1.9), (x0 + 2.2, 2.6), color=grad, ls="--")  # backward: loss -> D
        if not d_step:  # ... -> fake -> G
            _arrow(ax, (x0 + 2.05, 3.2), (x0 + 2.05, 4.3), "∂g_loss/∂fake", color=grad, ls="--",
                   offset=(0.1, 0), ha="left")
        _text(ax, x0, 0.85, "red dashes: " + path_note, SMALL, ha="left", color=grad)
        _text(ax, x0, 0.5, update, SMALL, ha="left")
    _text(ax, 0.2, 0.12, "every batch: one D step, then one G step (gan.discriminator_step, generator_step); "
          "D(x) = σ(logit)", SMALL, ha="left")
    return fig


# ---------------------------------------------------------------- lesson 11
def _feature_map(ax, x, y, size, channels):
    """A (channels, size, size) tensor as a square (a few stacked squares when it has several channels)."""
    side = 0.28 + 0.035 * size
    for k in reversed(range(1 if channels == 1 else 3)):
        ax.add_patch(Rectangle((x - side / 2 + 0.07 * k, y - side / 2 + 0.07 * k), side, side,
                               fc=FILL["output"] if channels == 1 else FILL["input"], ec=EDGE, lw=0.9))
    return side / 2


def dcgan_architecture(latent_dim: int = 64, base_channels: int = 32) -> Figure:
    """G: z → linear → (2C, 7, 7) → transposed convs → tanh (1, 28, 28); D: strided convs → a logit."""
    _check("latent_dim", latent_dim, 1)
    _check("base_channels", base_channels, 1)
    wide, start, k, s, p = 2 * base_channels, dcgan.START_SIZE, dcgan.KERNEL, dcgan.STRIDE, dcgan.PADDING
    up1 = dcgan.transposed_conv_size(start)
    up2 = dcgan.transposed_conv_size(up1)
    down1 = dcgan.conv_size(dcgan.IMAGE_SIZE)
    down2 = dcgan.conv_size(down1)
    flat = wide * down2 * down2
    fig, ax = _canvas(10.0, 6.6)
    conv = f"{k}×{k}, stride {s}, padding {p}"
    rows = (
        (4.55, "generator G: ReLU inside, tanh output, BatchNorm everywhere except the output layer",
         [(0.55, (latent_dim,)), (3.35, (wide, start)), (5.95, (base_channels, up1)), (8.85, (1, up2), "image\nG(z)")],
         [f"Linear {latent_dim}→{wide * start * start}, no bias\nBatchNorm1d, ReLU\n"
          f"view as ({wide}, {start}, {start})",
          f"ConvTranspose2d\n{conv}\nBatchNorm2d, ReLU", f"ConvTranspose2d\n{conv}\ntanh: pixels in [−1, 1]"]),
        (1.65, "discriminator D: LeakyReLU(0.2), no pooling, no BatchNorm on the input layer, returns a logit",
         [(0.85, (1, dcgan.IMAGE_SIZE), "real x\nor G(z)"), (3.75, (base_channels, down1)),
          (6.15, (wide, down2)), (9.05, ())],
         [f"Conv2d\n{conv}\nLeakyReLU(0.2)", f"Conv2d\n{conv}\nBatchNorm2d, LeakyReLU(0.2)",
          f"flatten: (B, {flat})\nLinear {flat}→1"]),
    )
    for y, title, nodes, ops in rows:
        _text(ax, 0.15, y + 1.5, title, FONT, ha="left", weight="bold")
        edges = []
        for x, shape, *inside in nodes:
            if len(shape) == 2:
                half = _feature_map(ax, x, y, shape[1], shape[0])
                if inside:
                    _text(ax, x, y, inside[0], SMALL)
                label = f"(B, {shape[0]}, {shape[1]}, {shape[1]})"
            elif shape:
                half = 0.1
                _box(ax, x, y, 0.2, 1.1, "", "input")
                label = f"z: (B, {shape[0]})"
            else:
                half = 0.45
                _box(ax, x, y, 0.9, 0.45, "logit", "output", SMALL)
                label = "(B,)"
            edges.append((x - half, x + half + (0.14 if len(shape) == 2 and shape[0] > 1 else 0)))
            _text(ax, x, y - 0.85, label, FONT)
        for (_, right), (left, _), op in zip(edges, edges[1:], ops):
            _arrow(ax, (right + 0.08, y), (left - 0.08, y))
            _text(ax, (right + left) / 2, y + 0.72, op, SMALL, va="bottom")
    sizes = (f"transposed conv (n − 1)·s − 2p + k: {start} → {up1} → {up2};  conv ⌊(n + 2p − k)/s⌋ + 1: "
             f"{dcgan.IMAGE_SIZE} → {down1} → {down2}")
    _text(ax, 0.15, 0.25, f"Z = latent_dim = {latent_dim}, C = base_channels = {base_channels};  sizes: {sizes}",
          SMALL, ha="left")
    return fig


DIAGRAMS = {function.__name__: function for function in (
    fully_connected_layer, tensor_strides, convolution_stride_padding, multichannel_convolution, unrolled_rnn,
    lstm_cell, transformer_block, bert_masking, gan_training_loop, dcgan_architecture)}
