"""Server-rendered pages (placeholder until the web interface lands)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI


def install(app: FastAPI, static_dir: Path) -> None:
    del app, static_dir
