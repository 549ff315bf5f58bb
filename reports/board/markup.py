"""HTML building blocks of the board report: escaping, tables, key-value tables and inline
PNG figures. Every piece of text goes through :func:`esc`, so user text never becomes markup."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

import pandas as pd


def esc(v: object) -> str:
    return html.escape(str(v), quote=True)


def html_table(
    frame: pd.DataFrame,
    headers: dict[str, str] | None = None,
    fmt: dict[str, object] | None = None,
    signed: Sequence[str] = (),
    cls: str = "",
) -> str:
    headers, fmt = headers or {}, fmt or {}
    if frame.empty:
        return "<p><em>None.</em></p>"
    cols = list(frame.columns)
    numeric = {
        c
        for c in cols
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    }
    head = "".join(
        f'<th class="{"num" if c in numeric else ""}">{esc(headers.get(c, c))}</th>' for c in cols
    )
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for c, v in zip(cols, row, strict=True):
            cls = ["num"] if c in numeric else []
            if c in signed and isinstance(v, int | float):
                cls.append("pos" if v > 0 else "neg" if v < 0 else "")
            f = fmt.get(c)
            text = f(v) if callable(f) else (f"{v:,.2f}" if isinstance(v, float) else str(v))
            cells.append(f'<td class="{" ".join(cls)}">{esc(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def kv_table(rows: Iterable[tuple[str, str]], cls: str = "kv") -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="{cls}"><tbody>{body}</tbody></table>'


def yes_no(v: object) -> str:
    return "yes" if v is True or str(v).strip().lower() in {"true", "1"} else "no"


def img(png: bytes | None, alt: str, caption: str = "") -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{data}">{cap}</figure>'
