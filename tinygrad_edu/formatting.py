"""Plain-text formatting shared by the reports (gradient comparisons, derivations, traces)."""


def fmt_shape(shape):
    """(3, 4) -> "(3, 4)", () -> "scalar", None (no gradient) -> "-"."""
    if shape is None:
        return "-"
    return "scalar" if tuple(shape) == () else str(tuple(shape))


def format_table(head, body):
    """Left-aligned text columns: a header, a rule, then the rows (a list of lines)."""
    widths = [max(len(str(row[i])) for row in [head] + body) for i in range(len(head))]

    def line(row):
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
    return [line(head), line(["-" * w for w in widths])] + [line(row) for row in body]
