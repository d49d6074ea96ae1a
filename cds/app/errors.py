"""Error pages: every failure of the launch or the work-up is a clear page with its status."""

from __future__ import annotations

from flask import Response

from cds.app.pages import render, texts


class AppError(Exception):
    """A failure shown to the user; ``key`` names its title and text (catalogue app.errors.*)."""

    def __init__(self, key: str, status: int, detail: str = "") -> None:
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key = key
        self.status = status
        self.detail = detail  # technical, names no patient data (e.g. "HTTP 503")


def error_page(key: str, status: int, detail: str = "") -> Response:
    page = texts()["errors"].get(key) or texts()["errors"]["internal"]
    html = render("error.html.j2", page=page, status=status, detail=detail)
    return Response(html, status=status, mimetype="text/html")
