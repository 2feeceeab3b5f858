"""Start-up exempts what is alive then from the cyclic garbage collector, and shutdown undoes it."""

from __future__ import annotations

import gc
from pathlib import Path

from tests.conftest import make_settings, running_app


async def test_startup_freezes_what_is_alive_and_shutdown_unfreezes(data_dir: Path) -> None:
    gc.unfreeze()
    async with running_app(make_settings(data_dir, gc_freeze_at_start=True)) as (app, client):
        # The model, the libraries and the app's own objects are frozen; a full collection skips them.
        assert gc.get_freeze_count() > 100_000
        assert (await client.get("/health/")).status_code == 200
    assert gc.get_freeze_count() == 0


async def test_off_by_setting(data_dir: Path) -> None:
    gc.unfreeze()
    async with running_app(make_settings(data_dir)) as _:
        assert gc.get_freeze_count() == 0
