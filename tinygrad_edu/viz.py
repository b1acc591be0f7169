"""Seeing the computation graph: draw_graph returns a graphviz drawing of it.

draw_graph(loss, model) returns a graphviz.Digraph: boxes for tensors (name,
shape, dtype, optionally values and gradient norms), ellipses for the
operations between them. Jupyter renders it inline; `.source` is the DOT text
(no Graphviz binary needed); render_graph writes SVG/PNG/PDF with `dot`.

    parameters   blue boxes, named by module path ("fc1.weight")
    other leaves that require grad   green;  constants (inputs, labels) grey
    outputs      orange
    broadcasts   red dashed edges labelled "broadcast (16,) -> (960, 16)"

Everything said about an op comes from its row in ops.py: its label, whether
its inputs broadcast, and its math and derivative (the tooltip in SVG).
Node ids are n0, n1, ... in autograd.walk order (never id()), so the same
graph always gives the same DOT text; the walk is iterative, so a chain of
100,000 ops draws without RecursionError. The graphviz package is imported
only when a drawing is made: the rest of tinygrad_edu works without it.

The step-by-step backward table lives in trace.py; backward_trace is
re-exported here because it is read side by side with the drawing.
"""
import functools

import numpy as np

from .autograd import walk, stand_in, Record
from .formatting import fmt_shape
from .trace import (as_roots, model_names, module_paths,
                    backward_trace, BackwardTrace, TraceRow)   # noqa: F401 (re-exported)

COLORS = {"parameter": "#cfe2f3", "leaf": "#d9ead3", "constant": "#eeeeee",
          "output": "#fce5cd", "collapsed": "#fff2cc"}
BROADCAST_EDGE = {"style": "dashed", "color": "#cc0000", "fontcolor": "#cc0000"}

SHOW = ("values", "grads", "order")
MODULES = ("auto", "cluster", "collapse")
DIRECTIONS = ("auto", "LR", "TB", "RL", "BT")
DATA_PATH_WEIGHT = "8"   # Graphviz edge weight of the data path's edges (others' are 1)
DEEP = 4          # direction="auto": more ops than this along the longest path draw top to bottom
SMALL_GRAPH = 6   # a drawing of at most this many nodes needs no legend
PIXELS_PER_INCH = 96   # Graphviz's size is in inches; SVG pt and PNG pixels are both at 96 per inch in a browser
STYLES = ("auto", "tensor", "micrograd")


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz `dot` program, needed to render a drawing to a file, is not installed."""


INSTALL_COMMANDS = ("    sudo apt-get install graphviz     (Debian/Ubuntu)\n"
                    "    brew install graphviz             (macOS)\n"
                    "    conda install graphviz            (conda)\n")
INSTALL_HINT = ("rendering a graph needs the Graphviz 'dot' program, which was not found on "
                "your PATH. Install it with one of:\n" + INSTALL_COMMANDS +
                "Meanwhile, graph.source is the DOT text, which needs no binary "
                "(paste it into any Graphviz viewer).")


def require_graphviz(who):
    """The graphviz Python package, imported now: tinygrad_edu itself must load without it."""
    try:
        import graphviz
    except ImportError:
        raise ImportError(f"{who} needs the graphviz Python package, which is not installed. "
                          f"Install it with\n    pip install graphviz\nand, to render drawings "
                          f"to SVG/PNG/PDF, the Graphviz program with one of:\n" +
                          INSTALL_COMMANDS, name="graphviz") from None
    return graphviz


@functools.cache
def drawing_class():
    """The class of what draw_graph returns, made on first use (it subclasses graphviz.Digraph)."""
    graphviz = require_graphviz("draw_graph")

    class Drawing(graphviz.Digraph):
        """The graphviz.Digraph draw_graph returns (Jupyter shows it inline as SVG).

        Only difference: when Jupyter displays it and the dot program is missing,
        it shows how to install Graphviz instead of a traceback from graphviz.
        """

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except graphviz.ExecutableNotFound:
                return {"text/plain": "draw_graph: " + INSTALL_HINT}

    return Drawing


# --- the drawing ------------------------------------------------------------------------------

def draw_graph(root, model=None, *, show=(), modules="auto", direction="auto", max_nodes=1000,
               style="auto", max_width=1000):
    """Draw the computation graph that produced `root` (a Tensor or a list of Tensors).

    model       a Module (parameters named by module path, "fc1.weight", and a
                legend of the colours) or a dict name -> Tensor (names only)
    show        any of "values" (a value summary in each tensor: all values if
                <= 4), "grads" (each tensor's gradient norm, or its value in the
                micrograd style) and "order" (number the ops in the order
                backward() runs their VJPs); a string or a list of them
    modules     how Module calls are drawn (model must be a Module for all but
                "auto" and None):
                "auto" (default) draws each layer that is one idea to a learner
                as one node: the sub-modules whose class says draw_collapsed =
                True (nn.Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
                MultiheadAttention); its label gives the path, the layer and the
                shapes in -> out ("conv1: Conv2d(1->8, 3x3)"). Everything else
                is drawn op by op.
                None expands every layer into its primitives (no grouping);
                "cluster" also expands them, boxing the nodes made by each Module
                (nested like the modules); "collapse" draws each innermost Module
                call (Linear, BatchNorm1d, ...) as one node; a list of module
                paths (["conv1"]) collapses exactly those (expands all others).
                To expand one layer of an "auto" drawing, set
                model.conv1.draw_collapsed = False (or list the others).
                F.conv2d or F.scaled_dot_product_attention called outside such a
                layer is drawn op by op: only Module calls are recorded.
    direction   "auto" (default): "TB" (top to bottom) when more than 4 ops lie along
                the longest path, else "LR" (left to right); or "LR", "TB", "RL", "BT"
    max_width   the widest the rendered picture may be, in CSS pixels (what a
                notebook cell shows; 1000 by default, about a cell's width): passed
                to Graphviz as `size`, which scales a wider drawing down (never up).
                None: no cap
    max_nodes   on bigger graphs, draw the last max_nodes tensors of the walk
                (the end of the computation) and the leaves they use, with a
                note saying what was left out; None draws everything
    style       "tensor", "micrograd" (record boxes: name | data | grad, for
                scalar graphs) or "auto" (micrograd when every tensor is a
                scalar and "grads" is shown)

    After backward() (which frees the graph) the drawing is made from the small
    Records backward keeps of each node: op, shape, dtype, name, module, and the
    value and gradient of tensors of at most 4 elements (autograd.free); bigger
    intermediates show no values or gradient then, parameters always show theirs.
    Before backward, or with retain_graph=True, the tensors themselves are drawn:
    gradients are those of the last backward(); intermediates keep theirs only
    after retain_grad(): retain_grads_and_backward(root) gives every node one.
    The output is named "loss" (a scalar) or "output", and constants that are
    not scalars "input", unless they have a name. Drawings of more than 6 nodes get a legend of the
    marks they use. Returns a graphviz.Digraph (renders inline in Jupyter;
    `.source` is the DOT text; render_graph writes a file).
    """
    drawing = drawing_class()
    roots = as_roots(root, "draw_graph")
    show = shown(show)
    check_options(model, modules, direction, max_nodes, style, max_width)
    names, paths = model_names(model, "draw_graph"), module_paths(model)
    roots = [stand_in(r) for r in roots]
    order = list(walk(roots, records=True))
    check_not_freed(order)
    total = len(order)
    kept = last_tensors(order, roots, max_nodes)
    order = [t for t in order if t in kept]
    if modules is not None and modules != "cluster":
        paths = with_outside_layers(paths, order)
    if style == "auto":
        style = "micrograd" if "grads" in show and all(t.ndim == 0 for t in order) else "tensor"
    graph_attr = {"rankdir": direction}
    if max_width is not None:   # a width in inches, and a height that never binds
        graph_attr["size"] = f"{max_width / PIXELS_PER_INCH:.4g},1000"
    dot = drawing("computation_graph", graph_attr=graph_attr,
                  node_attr={"fontname": "Helvetica", "fontsize": "10"},
                  edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    drawer = Drawer(dot, style, show, names, paths,
                    backward_steps(roots) if "order" in show else {},
                    modules == "cluster", collapse_groups(order, paths, modules, model), roots)
    drawer.draw(order)
    if len(order) < total:
        drawer.note_truncated(order, kept, total, max_nodes)
    drawer.attach_clusters()
    if direction == "auto":
        dot.graph_attr["rankdir"] = "TB" if drawer.depth > DEEP else "LR"
    if drawer.counter > SMALL_GRAPH:
        draw_legend(dot, style, drawer.used)
    return dot


def draw_dot(root, format="svg", rankdir="auto"):
    """micrograd's draw_dot: the graph behind `root` with each node's data and gradient.

    For a graph of scalars, micrograd's picture: a record box per value
    (name | data | grad) and a circle per operation. For a graph with
    non-scalar tensors it draws the tensor style instead (shape, dtype, value
    summary, gradient norm), since a record box holds one number. Works right
    after root.backward(), as in micrograd: values and gradients come from what
    backward kept (see draw_graph). format ("svg", "png" or "pdf") is what Jupyter
    and dot.render() produce; rankdir is draw_graph's direction ("auto", "LR",
    "TB", ...). Returns draw_graph's graphviz.Digraph.
    """
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"draw_dot: format must be 'svg', 'png' or 'pdf', got {format!r}")
    dot = draw_graph(root, show=("values", "grads"), direction=rankdir)
    dot.format = format
    return dot


# --- draw_graph's steps -----------------------------------------------------------------------

def shown(show):
    """The set of things `show` asks for (a string is one of them)."""
    wanted = [show] if isinstance(show, str) else show
    try:
        wanted = set(wanted)
    except TypeError:   # not iterable, or holds unhashable things
        wanted = None
    if wanted is None or not wanted <= set(SHOW):
        raise ValueError(f"draw_graph: show must be some of {', '.join(map(repr, SHOW))} "
                         f"(one string or a list of them), got {show!r}")
    return wanted


def check_options(model, modules, direction, max_nodes, style, max_width):
    """Refuse every invalid option by name, with its valid choices, before drawing anything."""
    if modules is not None:
        valid = modules in MODULES if isinstance(modules, str) else (
            isinstance(modules, (list, tuple)) and all(isinstance(p, str) for p in modules))
        if not valid:
            raise ValueError(f"draw_graph: modules must be None, 'cluster', 'collapse' or a "
                             f"list of module paths to collapse, or 'auto' (the default: "
                             f"collapse the layers marked draw_collapsed), got {modules!r}")
        # "auto" has nothing to collapse without a Module, which is fine: it is the default
        if modules != "auto" and not hasattr(model, "named_modules"):
            raise ValueError(f"draw_graph: modules={modules!r} needs the model, a Module, "
                             f"as the second argument: draw_graph(loss, model, modules=...); "
                             f"got model={type(model).__name__}")
    if direction not in DIRECTIONS:
        raise ValueError(f"draw_graph: direction must be one of "
                         f"{', '.join(map(repr, DIRECTIONS))}, got {direction!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)
                                  or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes must be a positive int or None, got {max_nodes!r}")
    if style not in STYLES:
        raise ValueError(f"draw_graph: style must be one of {', '.join(map(repr, STYLES))}, "
                         f"got {style!r}")
    if max_width is not None and (isinstance(max_width, bool)
                                  or not isinstance(max_width, (int, float))
                                  or not max_width > 0):
        raise ValueError(f"draw_graph: max_width must be a positive number of pixels or None, "
                         f"got {max_width!r}")


def check_not_freed(order):
    """A freed node always has a Record (autograd.free makes it); refuse to draw one without."""
    for t in order:
        if t._op is not None and t._parents is None and not isinstance(t, Record):
            raise RuntimeError(
                "draw_graph: the graph behind this tensor was freed by backward(); call "
                "draw_graph before backward(), or call backward(retain_graph=True) "
                "(viz.retain_grads_and_backward(root) does that, keeping every gradient)")


def last_tensors(order, roots, max_nodes):
    """The tensors to draw: the last max_nodes of the walk order, the roots, and the leaves
    the ops among them use.

    The order is topological, so every user of a kept result comes after it and
    is kept too: what is cut off is the beginning of the computation. A leaf used
    all along (a weight shared by every step, a constant) is met early in the
    walk, and is kept with its later users rather than cutting them all off.
    """
    if max_nodes is None or len(order) <= max_nodes:
        return set(order)
    kept = set(order[-max_nodes:]) | set(roots)
    kept.update([p for t in kept if t._op is not None for p in inputs(t) if p._op is None])
    return kept


def backward_steps(roots):
    """op-node -> its step number in the backward pass (1 = first VJP run).

    The engine runs VJPs in reverse autograd.walk(grad_only=True) order; this
    numbers the nodes that have an op in exactly that order.
    """
    grad_roots = [r for r in roots if r.requires_grad]
    order = [t for t in reversed(list(walk(grad_roots, grad_only=True, records=True)))
             if t._op is not None]
    return {t: k for k, t in enumerate(order, start=1)}


def with_outside_layers(paths, order):
    """`paths` plus the layers called outside the model that draw as one node (a loss module,
    `criterion = nn.CrossEntropyLoss()`), named by their class: "CrossEntropyLoss"."""
    extra = {}
    for t in order:
        m = getattr(t, "_module", None)
        if m is not None and m not in paths and m not in extra and getattr(
                m, "draw_collapsed", False):
            name = type(m).__name__
            taken = set(paths.values()) | set(extra.values())
            k = 2
            while name in taken:   # two CrossEntropyLoss calls: the second is #2
                name, k = f"{type(m).__name__}#{k}", k + 1
            extra[m] = name
    return {**paths, **extra} if extra else paths


def collapse_groups(order, paths, modules, model):
    """op-node -> module path of the collapsed module that swallows it (empty: no collapse)."""
    if modules is None or modules == "cluster":
        return {}
    if modules == "auto":   # the model itself stays open: it is what the caller asked to see
        wanted = {p for m, p in paths.items() if p and getattr(m, "draw_collapsed", False)}
    elif modules == "collapse":
        innermost = {m for m in paths if m is not model and not any(True for _ in m.children())}
        wanted = {paths[m] for m in innermost}
    else:
        wanted = set(modules)
        unknown = wanted - set(paths.values())
        if unknown:
            raise ValueError(f"draw_graph: modules names unknown module paths {sorted(unknown)}; "
                             f"the model has {sorted(p for p in paths.values() if p)}")
    groups = {}
    for t in order:
        if t._op is None or t._module is None:
            continue
        path = paths.get(t._module, "")
        # the innermost wanted path containing this module (itself or an ancestor)
        while path and path not in wanted:
            path = path.rpartition(".")[0]
        if path:
            groups[t] = path
    return groups


def data_path(roots):
    """The (input, op-node) edges a drawing keeps straight: from each root back through
    first operands (the loss's logits, a layer's x in x @ W.T and h + b, BatchNorm's x - mean).

    One chain, so no two of its edges pull one node two ways; parameters and side branches
    (a mean, a variance, a max shift) are then laid out beside it instead of pushing each
    layer further sideways."""
    path = set()
    for t in roots:
        while t._op is not None and t._parents:
            x = inputs(t)[0]
            if x._op is None:
                break   # a leaf (the input batch): nothing above it to keep in line
            path.add((x, t))
            t = x
    return path


# --- labels -----------------------------------------------------------------------------------

def module_summary(module):
    """What a collapsed layer is, in a few characters: "Conv2d(1->8, 3x3, stride 2)",
    "MaxPool2d(2x2)", "MultiheadAttention(16, 4 heads)"; else its class name."""
    kind = type(module).__name__

    def size(v):   # a 1-D kernel (Conv1d) is a plain number
        if isinstance(v, tuple):
            return str(v[0]) if len(v) == 1 else "x".join(map(str, v))
        return f"{v}x{v}"
    extras = []
    stride, kernel = getattr(module, "stride", None), getattr(module, "kernel_size", None)
    conv = hasattr(module, "in_channels")
    default = (1 if conv else kernel)   # a pool's stride defaults to its kernel
    if kernel is not None and set(np.ravel(stride)) != set(np.ravel(default)):
        strides = set(np.ravel(stride))
        extras.append(f"stride {strides.pop() if len(strides) == 1 else size(stride)}")
    if conv and kernel is not None:
        return f"{kind}({module.in_channels}->{module.out_channels}, " \
               f"{', '.join([size(kernel)] + extras)})"
    if kernel is not None:
        return f"{kind}({', '.join([size(kernel)] + extras)})"
    if hasattr(module, "num_heads"):
        return f"{kind}({module.embed_dim}, {module.num_heads} heads)"
    if hasattr(module, "output_size"):
        return f"{kind}({module.output_size})"
    return kind


def inputs(t):
    """t's inputs as the drawing shows them: Records for those backward freed."""
    return tuple([stand_in(p) for p in t._parents or ()])


def value_of(t):
    """t's values, or None for a Record of a tensor too big to keep them."""
    return t.value if isinstance(t, Record) else t._data


def grad_of(t):
    """t's gradient as an array, or None: .grad, else what the last freeing backward kept."""
    if isinstance(t, Record):
        return t.grad
    if t.grad is not None:
        return t.grad._data
    return None if t._record is None else t._record.grad


def summarize(array):
    """A short text for some values: the numbers themselves if few, else mean and std."""
    a = np.asarray(array)
    if a.size == 1:
        return f"{a.item():.4g}"
    if a.size <= 4:
        return "[" + ", ".join(f"{v:.3g}" for v in a.reshape(-1)) + "]"
    return f"mean {a.mean():.3g}, std {a.std():.3g}"


def grad_norm(t):
    g = grad_of(t)
    return None if g is None else float(np.linalg.norm(g))


def record_escape(text):
    """Record labels treat {}|<> as structure: escape them in names."""
    return "".join("\\" + c if c in "{}|<> " else c for c in text)


class Drawer:
    """Adds nodes and edges for one draw_graph call (keeps the id counter and clusters)."""

    def __init__(self, dot, style, show, names, paths, steps, cluster, groups, roots):
        self.dot, self.style, self.names, self.paths = dot, style, names, paths
        self.steps, self.show_values, self.show_grads = steps, "values" in show, "grads" in show
        self.cluster, self.groups, self.roots = cluster, groups, set(roots)
        # clusters pack each module's ops into a box; a straight path through the boxes
        # fights that packing and makes the drawing wider, not narrower (measured)
        self.data_path = set() if cluster else data_path(roots)
        self.ids, self.op_ids, self.group_ids = {}, {}, {}
        self.clusters = {}        # module path -> list of (node id, label, attrs)
        self.counter = 0
        self.edges = set()
        self.used = set()         # the marks drawn (tensor kinds, "op", "broadcast", ...)
        self.depth = 0            # ops along the longest path (direction="auto")

    def new_id(self):
        nid = f"n{self.counter}"
        self.counter += 1
        return nid

    # where a node goes: the cluster of its module, or the top level
    def place(self, nid, label, path, **attrs):
        if self.cluster and path:
            self.clusters.setdefault(path, []).append((nid, label, attrs))
        else:
            self.dot.node(nid, label, **attrs)

    def tensor_path(self, t):
        if t in self.names:   # a parameter sits in the module that owns it
            return self.names[t].rpartition(".")[0]
        return self.paths.get(t._module, "") if t._op is not None else ""

    def inlined(self, t):
        """Scalar constants (the 2 in x * 2, eps) are written into the op's label instead."""
        return (self.style == "tensor" and t.ndim == 0 and t._op is None and not t.requires_grad
                and t not in self.roots and t not in self.names)

    def hidden(self, t, users):
        """Inlined constants, results made inside a collapsed module and used only there,
        and constants used only inside a draw_collapsed layer: its padding zeros, softmax's
        max shift, the unfolded columns of an input that needs no grad (its ops were not
        recorded) are details of the one idea."""
        if self.inlined(t):
            return True
        if t in self.roots:
            return False
        g = self.groups.get(t)
        if g is None and t._op is None and not t.requires_grad and t not in self.names:
            g = self.groups.get(users[0]) if users else None
            if g is None or not getattr(self.module_at(g), "draw_collapsed", False):
                return False
        return g is not None and all(self.groups.get(u) == g for u in users)

    def module_at(self, path):
        return next(m for m, p in self.paths.items() if p == path)

    def draw(self, order):
        """Nodes and edges in walk order: each op, the edges into it, then its result."""
        users, depth = {}, {}
        for t in order:
            ins = inputs(t)
            for p in ins:
                users.setdefault(p, []).append(t)
            d = max([depth.get(p, 0) for p in ins], default=0)
            g = self.groups.get(t)
            if t._op is not None and (g is None or all(self.groups.get(p) != g for p in ins)):
                d += 1   # a collapsed layer counts once
            depth[t] = d
        self.depth = max(depth.values(), default=0)
        self.group_io = self.group_shapes(order, users)
        for t in order:
            if t._op is not None:
                if t in self.groups:
                    self.draw_group_member(t)
                else:
                    self.draw_op(t)
                self.draw_inputs(t)
            if not self.hidden(t, users.get(t, ())):
                self.draw_tensor(t)
                if t._op is not None:
                    self.edge(self.op_node(t), self.ids[t],
                              **({} if self.cluster else {"weight": DATA_PATH_WEIGHT}))

    def group_shapes(self, order, users):
        """collapsed path -> (shapes coming in, shapes going out), each listed once.

        In: what flows into the layer with a gradient (results of earlier ops, leaves
        that require grad), not its parameters nor constants: a constant's ops are not
        recorded, so a constant input reaches the graph already unfolded (the im2col
        columns of a first conv layer), and softmax's max shift is a constant too.
        Out: the layer's results that are drawn (used outside, or roots).
        """
        io = {}
        for t in order:
            path = self.groups.get(t)
            if path is None:
                continue
            ins, outs = io.setdefault(path, ([], []))
            for x in inputs(t):
                if self.groups.get(x) != path and x not in self.names and (
                        x._op is not None or x.requires_grad):
                    ins.append(fmt_shape(x.shape))
            if not self.hidden(t, users.get(t, ())):
                outs.append(fmt_shape(t.shape))
        return {p: (list(dict.fromkeys(i)), list(dict.fromkeys(o))) for p, (i, o) in io.items()}

    def op_node(self, t):
        """The node standing for t's op: its own, or its collapsed module's."""
        return self.op_ids[t] if t in self.op_ids else self.group_ids[self.groups[t]]

    def draw_inputs(self, t):
        group = self.groups.get(t)
        for x in inputs(t):
            if group is not None and self.groups.get(x) == group:
                continue   # an edge inside a collapsed module
            if x not in self.ids and x._op is None:
                continue   # a hidden constant
            src = self.ids.get(x) or self.group_ids.get(self.groups.get(x))
            if src is None:
                continue   # cut off by max_nodes
            attrs = {"weight": DATA_PATH_WEIGHT} if (x, t) in self.data_path else {}
            if t._op.broadcasts and x.shape != t.shape and x in self.ids:
                attrs = dict(attrs, **BROADCAST_EDGE, label=f"broadcast {fmt_shape(x.shape)} -> "
                                                   f"{fmt_shape(t.shape)}")
                self.used.add("broadcast")
            self.edge(src, self.op_node(t), **attrs)

    def edge(self, src, dst, **attrs):
        key = (src, dst, tuple(sorted(attrs.items())))
        # collapsed modules would repeat an edge once per op inside; x * x keeps both
        if src == dst or (self.groups and key in self.edges):
            return
        self.edges.add(key)
        self.dot.edge(src, dst, **attrs)

    def draw_op(self, t):
        nid = self.new_id()
        self.op_ids[t] = nid
        label = t._op.label(t._args or ())
        ins = inputs(t)
        if any(self.inlined(x) for x in ins):
            label += "(" + ", ".join(f"{value_of(x).item():g}" if self.inlined(x) else "\u00b7"
                                     for x in ins) + ")"
        if t in self.steps:
            label = f"#{self.steps[t]} {label}"
        shape = "circle" if self.style == "micrograd" else "ellipse"
        self.used.add("op")
        self.place(nid, label, self.paths.get(t._module, ""), shape=shape,
                   tooltip=f"{t._op.math}\\n{t._op.rule}")

    def draw_group_member(self, t):
        path = self.groups[t]
        if path not in self.group_ids:
            nid = self.new_id()
            self.group_ids[path] = nid
            module = self.module_at(path)
            ins, outs = self.group_io[path]
            flow = " -> ".join(filter(None, [", ".join(ins), ", ".join(outs)]))
            summary = module_summary(module)
            title = path if summary == path.partition("#")[0] else f"{path}: {summary}"
            label = f"{title}\\n{'' if ins else '-> '}{flow}"
            parent = path.rpartition(".")[0]
            self.used.add("collapsed")
            self.place(nid, label, parent, shape="box3d", style="filled",
                       fillcolor=COLORS["collapsed"])

    def draw_tensor(self, t):
        nid = self.new_id()
        self.ids[t] = nid
        kind = self.kind(t)
        self.used.add(kind)
        attrs = {"shape": "record" if self.style == "micrograd" else "box"}
        if kind != "intermediate":
            attrs.update(style="filled", fillcolor=COLORS[kind])
        if kind == "output":
            attrs["penwidth"] = "2"
        self.place(nid, self.tensor_label(t), self.tensor_path(t), **attrs)

    def kind(self, t):
        if t in self.roots:
            return "output"
        if t._op is not None:
            return "intermediate"
        if t in self.names:
            return "parameter"
        return "leaf" if t.requires_grad else "constant"

    def default_name(self, t):
        """The output is the "loss" (a scalar) or the "output"; a constant is an "input"."""
        if t in self.roots:
            return "loss" if t.numel() == 1 else "output"
        # a scalar constant is a literal (the 2 in x * 2, an eps), not an input
        return "input" if t._op is None and not t.requires_grad and t.ndim > 0 else None

    def tensor_label(self, t):
        name = self.names.get(t) or t.name or self.default_name(t)
        value, g = value_of(t), grad_of(t)
        if self.style == "micrograd":
            parts = [record_escape(name or "")]
            parts.append(f"data {value.item():.4f}" if t.numel() == 1 and value is not None
                         else f"data {fmt_shape(t.shape)}")
            if self.show_grads:
                parts.append("grad -" if g is None else f"grad {g.item():.4f}"
                             if g.size == 1 else f"grad |{grad_norm(t):.3g}|")
            return "{ " + " | ".join(parts) + " }"
        lines = [name] if name else []
        lines.append(f"{fmt_shape(t.shape)} {t.dtype}")
        if self.show_values and value is not None:
            lines.append(summarize(value))
        if self.show_grads and g is not None:
            lines.append(f"grad norm {grad_norm(t):.3g}")
        return "\\n".join(lines)

    def note_truncated(self, order, kept, total, max_nodes):
        """One note node stands for everything beyond max_nodes; edges show where it was cut."""
        nid = self.new_id()
        self.dot.node(nid, f"... {total - len(order)} more tensors not drawn\\n"
                           f"(graph has {total}, max_nodes={max_nodes}; "
                           f"pass max_nodes=None to draw all)",
                      shape="note", style="filled", fillcolor="#f4cccc")
        for t in order:
            if t._op is not None and any(p not in kept for p in inputs(t)):
                self.edge(nid, self.op_node(t), style="dotted")

    def attach_clusters(self):
        """Nest the module clusters like the modules (innermost first, so parents hold them)."""
        if not self.clusters:
            return
        paths = set(self.clusters)
        for p in list(paths):   # every ancestor needs a cluster to nest in
            while "." in p:
                p = p.rpartition(".")[0]
                paths.add(p)
        module_of = {path: m for m, path in self.paths.items()}
        subgraphs = {}
        graphviz = require_graphviz("draw_graph")
        for path in sorted(paths, key=lambda p: (-p.count("."), p)):
            sub = graphviz.Digraph(f"cluster_{path}")
            module = module_of.get(path)
            kind = type(module).__name__ if module is not None else ""
            sub.attr(label=f"{path} ({kind})", style="rounded", color="#888888",
                     fontname="Helvetica", fontsize="10")
            for nid, label, attrs in self.clusters.get(path, ()):
                sub.node(nid, label, **attrs)
            for child in sorted(c for c in subgraphs if c.rpartition(".")[0] == path):
                sub.subgraph(subgraphs.pop(child))
            subgraphs[path] = sub
        for path in sorted(subgraphs):
            self.dot.subgraph(subgraphs[path])


LEGEND = (   # (mark, fill colour or None, text), in the order the legend lists them
    ("parameter", COLORS["parameter"], "parameter (named by module path)"),
    ("leaf", COLORS["leaf"], "leaf that requires grad"),
    ("constant", COLORS["constant"], "constant / input"),
    ("intermediate", None, "result of an op"),
    ("output", COLORS["output"], "output"),
    ("collapsed", COLORS["collapsed"], "layer drawn as one node"),
)


def draw_legend(dot, style, used):
    """One small table node listing the marks in `used` (what this drawing drew), no others."""
    rows = []
    for mark, colour, text in LEGEND:
        if mark in used:
            fill = f' bgcolor="{colour}"' if colour else ""
            border = ' border="2"' if mark == "output" else ""
            rows.append(f"<tr><td{fill}{border}>{text}</td></tr>")
    if "op" in used:
        rows.append(f"<tr><td border=\"0\">{'circle' if style == 'micrograd' else 'ellipse'}: "
                    f"an operation</td></tr>")
    if "broadcast" in used:
        rows.append('<tr><td border="0"><font color="#cc0000">red dashed edge: an input '
                    'broadcast to the op\'s shape</font></td></tr>')
    # in the last rank, beside the output: at the top it would sit beside the inputs and
    # widen the widest part of a deep drawing (then scaled down to max_width, text and all)
    with dot.subgraph(name="legend_rank") as last:
        last.attr(rank="sink")
        last.node("legend", '<<table border="0" cellborder="1" cellspacing="2" cellpadding="3">'
                  '<tr><td border="0"><b>legend</b></td></tr>' + "".join(rows) + "</table>>",
                  shape="plaintext")


# --- gradients for the drawing ----------------------------------------------------------------

def retain_all_grads(root):
    """Call retain_grad() on every intermediate result behind `root` (so .grad is kept)."""
    for t in walk(as_roots(root, "retain_all_grads"), grad_only=True):
        if t._op is not None:
            t.retain_grad()
    return root


def retain_grads_and_backward(root):
    """retain_all_grads(root), then root.backward(retain_graph=True); returns root.

    So that draw_graph(root, show="grads") has a gradient for every node, and the
    graph is still there to draw. Leaves' .grad accumulate, as with any backward.
    """
    retain_all_grads(root).backward(retain_graph=True)
    return root


# --- rendering --------------------------------------------------------------------------------

def render_graph(dot, path, format="svg"):
    """Write the drawing to `path` (an extension matching `format` is added if missing).

    format is "svg", "png" or "pdf". Needs Graphviz's `dot` program; if it is
    missing, raises GraphvizNotFoundError saying how to install it. Returns the
    path written.
    """
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"render_graph: format must be 'svg', 'png' or 'pdf', got {format!r}")
    graphviz = require_graphviz("render_graph")
    path = str(path)
    if not path.endswith("." + format):
        path += "." + format
    try:
        data = dot.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(INSTALL_HINT) from None
    with open(path, "wb") as f:
        f.write(data)
    return path


def save_dot(dot, path):
    """Write the DOT text (works without Graphviz installed). Returns the path."""
    path = str(path)
    with open(path, "w") as f:
        f.write(dot.source)
    return path


from .plots import plot_decision_boundary, plot_grad_flow, plot_activation_histograms  # noqa
