"""The lab widget headless: controls drive the engine, buttons' handlers train and redraw, Pause stops Play."""

import asyncio

import pytest
import torch

from gan_course import lab as lab_engine
from gan_course.widgets import mode_collapse_lab

SMALL = dict(g_width=32, d_width=32, batch_size=64, eval_every=10)


@pytest.fixture
def ui():
    torch.set_num_threads(1)
    return mode_collapse_lab.ModeCollapseLabWidget(lab_engine.LabConfig(**SMALL), burst=10)


def test_every_config_field_has_a_control_and_dropdowns_follow_registries(ui):
    assert set(ui.controls) == set(lab_engine.LabConfig().to_dict())
    assert list(ui.controls["loss"].options) == list(lab_engine.losses.GAN_LOSSES)
    assert list(ui.controls["target"].options) == list(lab_engine.TARGETS)
    assert set(ui.preset.options) >= {"collapse", "cure"}


def test_step_button_trains_and_changes_text_and_image(ui):
    text, image = ui.metrics_label.value, ui.image.value
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    ui.on_step()
    assert ui.lab.step_count == 10
    assert ui.metrics_label.value != text and "step 10" in ui.metrics_label.value
    assert ui.image.value != image


def test_live_setting_keeps_training_and_structural_setting_restarts(ui):
    ui.on_step()
    ui.controls["g_lr"].value = 5e-4
    assert ui.lab.step_count == 10 and ui.lab.config.g_lr == 5e-4
    ui.controls["pack"].value = 2
    assert ui.lab.step_count == 0 and ui.lab.config.pack == 2 and ui.lab.discriminator.pack == 2
    assert "restarted" in ui.status.value


def test_invalid_setting_shows_the_engine_message_not_a_traceback(ui):
    ui.controls["batch_size"].value = 0
    assert "batch_size must be a positive int" in ui.status.value
    assert ui.lab.config.batch_size == 64  # the running lab kept its valid config
    ui.controls["batch_size"].value = 64
    ui.controls["d_lr"].value = -1.0
    assert "d_lr must be a positive" in ui.status.value


def test_preset_reset_save_and_load(ui, tmp_path):
    ui.preset.value = "cure"
    assert ui.lab.config == lab_engine.PRESETS["cure"] and ui.controls["loss"].value == "lsgan"
    ui.load_config(lab_engine.LabConfig(**SMALL, seed=4))
    ui.on_step()
    ui.path.value = str(tmp_path / "lab.json")
    ui.on_save()
    assert "saved" in ui.status.value
    ui.on_reset()
    assert ui.lab.step_count == 0
    ui.on_load()
    assert ui.lab.step_count == 10 and ui.controls["seed"].value == 4
    ui.path.value = str(tmp_path / "missing.json")
    ui.on_load()
    assert "could not load" in ui.status.value


def test_nan_run_shows_why_it_paused(ui):
    ui.load_config(lab_engine.LabConfig(**SMALL, loss="wgan", g_optimizer="sgd", d_optimizer="sgd",
                                        g_lr=1e12, d_lr=1e12))
    for _ in range(20):
        ui.on_step()
        if ui.lab.paused_reason:
            break
    assert ui.lab.paused_reason and "learning rate" in ui.status.value


def test_play_runs_bursts_until_pause_is_clicked(ui):
    async def scenario():
        ui.on_play()
        ui.on_play()  # a second click does not start a second loop
        await asyncio.sleep(0.05)
        while ui.lab.step_count < 30:
            await asyncio.sleep(0.01)
        ui.on_pause()  # a click handled between bursts
        await asyncio.wait_for(ui.task, timeout=5)
        return ui.lab.step_count

    stopped_at = asyncio.run(scenario())
    assert stopped_at >= 30 and not ui.playing and ui.task.done()
    assert ui.lab.step_count == stopped_at
