"""Formatting shared by the reports (gradient comparisons, derivations, traces): one table,
as plain text that fits a terminal and as HTML for a notebook."""
import html
import sys
import textwrap

WIDTH = 100   # columns a printed report may use: a terminal, or a notebook cell's text output


def fmt_shape(shape):
    """(3, 4) -> "(3, 4)", () -> "scalar", None (no gradient) -> "-"."""
    if shape is None:
        return "-"
    return "scalar" if tuple(shape) == () else str(tuple(shape))


def format_table(head, body, width=WIDTH):
    """Left-aligned text columns: a header, a rule, then the rows (a list of lines).

    When the columns would not fit in `width`, the widest ones wrap onto
    continuation lines (at spaces) until they do, as far as that can go. A cell
    may hold several lines ("\n").
    """
    head = [str(c) for c in head]
    body = [[str(c) for c in row] for row in body]
    widths = [max(len(line) for row in [head] + body for line in row[i].split("\n"))
              for i in range(len(head))]
    floor = [max(len(w) for row in [head] + body for w in row[i].split() or [""])
             for i in range(len(head))]   # never narrower than its longest word
    while sum(widths) + 2 * (len(widths) - 1) > width:
        i = max(range(len(widths)), key=lambda k: widths[k] if widths[k] > floor[k] else -1)
        if widths[i] == floor[i]:
            break   # every column is down to its longest word
        widths[i] -= 1   # narrow the widest column a step at a time: wide ones share the cut

    def lines(row):
        cells = [[part for line in c.split("\n")
                  for part in textwrap.wrap(line, w, break_long_words=False) or [""]]
                 for c, w in zip(row, widths)]
        return ["  ".join((cell[k] if k < len(cell) else "").ljust(w)
                          for cell, w in zip(cells, widths)).rstrip()
                for k in range(max(len(c) for c in cells))]
    out = lines(head) + ["  ".join("-" * w for w in widths)]
    for row in body:
        out += lines(row)
    return out


def html_table(head, body, notes=(), bad_rows=()):
    """The same table as HTML, for a notebook's _repr_html_: `notes` are lines under it,
    `bad_rows` the indices of rows to mark as failures."""
    def row(cells, tag, style=""):
        return (f"<tr{style}>" + "".join(f"<{tag} style='text-align:left'>"
                                         f"{html.escape(str(c)).replace(chr(10), '<br>')}</{tag}>" for c in cells)
                + "</tr>")
    bad = set(bad_rows)
    rows = [row(head, "th")] + [row(r, "td", " style='background:#fdd'" if i in bad else "")
                                for i, r in enumerate(body)]
    text = "".join(f"<div>{html.escape(n)}</div>" for n in notes)
    return f"<table>{''.join(rows)}</table>{text}"


def in_notebook():
    """True inside a Jupyter kernel, where a cell's last value displays itself."""
    ipython = sys.modules.get("IPython")   # only where a kernel could already be running
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None
