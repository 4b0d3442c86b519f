"""The Content-Disposition of a download, for names in any script (RFC 6266)."""

from __future__ import annotations

from urllib.parse import quote


def attachment(filename: str) -> dict[str, str]:
    """Headers that offer ``filename`` for saving: an ASCII fallback for old clients and the
    exact name as UTF-8 (RFC 5987), as Starlette's FileResponse writes for job downloads. A
    header is Latin-1, so the name itself can never go in as it is."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; "
                                   f"filename*=UTF-8''{quote(filename, safe='')}"}
