"""The lab widget headless: controls drive the engine, restart badge, one Play loop, honest status, slow motion,
compare, your own data, export and the static picture."""

import asyncio

import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg

from gan_course.training import lab as lab_engine
from gan_course.widgets import lab_views, mode_collapse_lab

SMALL = dict(g_width=32, d_width=32, batch_size=64, eval_every=10)


@pytest.fixture
def ui():
    torch.set_num_threads(1)
    return mode_collapse_lab.ModeCollapseLabWidget(lab_engine.LabConfig(**SMALL), burst=10)


def test_every_field_has_one_control_with_a_tooltip_top_bar_and_groups(ui):
    fields = set(lab_engine.LabConfig().to_dict()) - set(lab_engine.LabConfig.unused) - {"betas"}
    assert set(ui.controls) == fields | {"beta1", "beta2"}  # betas: two number boxes
    grouped = [name for names in mode_collapse_lab.GROUPS.values() for name in names]
    assert sorted(grouped + list(mode_collapse_lab.TOP)) == sorted(ui.controls), "each field in one place"
    assert all(control.tooltip for control in ui.controls.values())
    assert list(ui.controls["loss"].options) == list(lab_engine.losses.GAN_LOSSES)
    assert list(ui.controls["target"].options) == list(lab_engine.TARGETS)
    assert type(ui.controls["g_lr"]).__name__ == "FloatLogSlider"
    assert set(ui.preset.options) >= {"collapse", "cure"}


def test_preset_is_shown_not_custom():
    assert mode_collapse_lab.mode_collapse_lab("collapse").preset.value == "collapse"
    assert mode_collapse_lab.mode_collapse_lab("collapse", seed=3).preset.value == "(custom)"


def test_step_button_trains_and_changes_text_and_picture(ui):
    text, frame = ui.metrics_label.value, ui.image.frame
    assert frame["heat"]["shape"] == [lab_views.HEAT, lab_views.HEAT]
    ui.on_step()
    assert ui.lab.step_count == 10
    assert ui.metrics_label.value != text and "step 10" in ui.metrics_label.value
    assert ui.image.frame["step"] == 10 and ui.image.frame["fake"]["data"] != frame["fake"]["data"]


def test_live_setting_acts_now_and_structural_setting_waits_behind_a_badge(ui):
    ui.on_step()
    ui.controls["g_lr"].value = 5e-4
    assert ui.lab.step_count == 10 and ui.lab.config.g_lr == 5e-4 and ui.badge.value == ""
    ui.controls["latent_dim"].value = 3
    assert ui.lab.step_count == 10 and ui.lab.config.latent_dim == 2
    assert "latent_dim changed" in ui.badge.value and "restart" in ui.badge.value.lower()
    ui.toggles["pack 4"].value = True
    assert ui.controls["pack"].value == 4 and "pack changed" in ui.badge.value
    ui.on_reset()
    assert ui.lab.step_count == 0 and ui.lab.config.latent_dim == 3 and ui.lab.discriminator.pack == 4
    assert ui.badge.value == "" and ui.lab.config.g_lr == 5e-4


def test_invalid_setting_shows_the_engine_message_not_a_traceback(ui):
    ui.controls["beta1"].value = 1.5
    assert "betas must be two numbers in [0, 1)" in ui.status.value
    assert ui.lab.config.betas == (0.5, 0.999)  # the running lab kept its valid config
    ui.controls["beta1"].value = 0.5
    ui.controls["beta2"].value = 0.9  # the two boxes edit one field, which needs a restart
    assert ui.lab.config.betas == (0.5, 0.999) and "betas changed" in ui.badge.value
    ui.on_reset()
    assert ui.lab.config.betas == (0.5, 0.9) and ui.lab.d_optimizer.param_groups[0]["betas"] == (0.5, 0.9)
    ui.controls["g_width"].value = 10**7
    assert "g_width must be at most" in ui.status.value and ui.lab.generator.net[0].out_features == 32


def test_preset_reset_save_and_load(ui, tmp_path):
    ui.preset.value = "cure"
    assert ui.lab.config == lab_engine.PRESETS["cure"] and ui.controls["loss"].value == "lsgan"
    ui.load_config(lab_engine.LabConfig(**SMALL, seed=4))
    ui.on_step()
    ui.controls["d_lr"].value = 3e-4  # a live change, kept in the saved timeline
    ui.on_step()
    ui.path.value = str(tmp_path / "lab.pt")
    ui.on_save()
    assert "saved" in ui.status.value
    saved_history = ui.lab.history
    ui.on_reset()
    assert ui.lab.step_count == 0
    ui.on_load()
    assert ui.lab.step_count == 20 and ui.controls["seed"].value == 4 and ui.controls["d_lr"].value == 3e-4
    assert ui.lab.history == saved_history, "every per-redraw metrics row came back"
    ui.path.value = str(tmp_path / "missing.pt")
    ui.on_load()
    assert "could not load" in ui.status.value


def test_nan_run_says_why_and_play_never_claims_to_run(ui):
    ui.load_config(lab_engine.LabConfig(**SMALL, loss="wgan", g_optimizer="sgd", d_optimizer="sgd",
                                        g_lr=1e12, d_lr=1e12))
    for _ in range(20):
        ui.on_step()
        if ui.lab.paused_reason:
            break
    assert ui.lab.paused_reason and "learning rate" in ui.status.value
    ui.controls["g_lr"].value = 1e-4  # lowering the rate does not resume a broken run

    async def scenario():
        ui.on_play()
        await asyncio.sleep(0.01)
    asyncio.run(scenario())
    assert "playing" not in ui.status.value and "press Reset" in ui.status.value and not ui.playing


def test_play_pause_many_times_runs_one_loop(ui):
    bursts = []
    ui.burst = lambda: (bursts.append(asyncio.current_task()), ui.lab.step(1), ui.redraw())

    async def scenario():
        for _ in range(5):
            ui.on_play()
            ui.on_pause()
        ui.on_play()
        await asyncio.sleep(0.2)
        ui.on_pause()
        await asyncio.wait_for(ui.task, timeout=5)

    asyncio.run(scenario())
    assert len(set(bursts)) == 1, f"{len(set(bursts))} training loops ran at once"
    assert not ui.playing and ui.task.done()


def test_status_tells_when_the_play_task_died(ui):
    def broken():
        raise RuntimeError("out of memory")
    ui.burst = broken

    async def scenario():
        ui.on_play()
        await asyncio.sleep(0.05)
    asyncio.run(scenario())
    assert "playing" not in ui.status.value and "out of memory" in ui.status.value and not ui.playing


def test_slow_motion_shows_the_d_step_then_the_g_step(ui):
    ui.on_step()
    ui.on_slow_step()
    assert ui.lab.step_count == 10 and ui.image.frame["phase"] == "d" and "delta" in ui.image.frame
    assert "D step" in ui.status.value
    ui.on_slow_step()
    assert ui.lab.step_count == 11 and ui.image.frame["phase"] == "g" and "G step" in ui.status.value


def test_compare_steps_two_labs_in_lockstep():
    view = mode_collapse_lab.compare("collapse", "cure", g_width=32, d_width=32, batch_size=64)
    view.on_step()
    left, right = (panel.lab for panel in view.panels)
    assert left.step_count == right.step_count == 25 and left.config.seed == right.config.seed
    assert left.config.loss != right.config.loss
    assert "step 25" in view.panels[0].metrics_label.value and "step 25" in view.panels[1].metrics_label.value
    assert "image/png" in view._repr_mimebundle_()


def test_drawn_points_become_a_mixture_with_mode_metrics(ui, tmp_path):
    ui.buttons["Draw"].value = True
    assert ui.image.draw_mode
    ui.image.drawn = [[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    ui.on_use_drawn()
    assert ui.lab.config.target == "custom" and len(ui.lab.distribution.modes) == 3
    ui.on_step()
    assert "/3" in ui.metrics_label.value
    (tmp_path / "cloud.csv").write_text("x,y\n0,0\n1,1\n2,0\n")
    ui.data_path.value = str(tmp_path / "cloud.csv")
    ui.on_load_csv()
    assert ui.lab.distribution.modes is None and "point cloud" in ui.metrics_label.value


def test_export_gif_png_frames_and_static_picture(ui, tmp_path):
    for _ in range(3):
        ui.on_step()
    path = ui.export(tmp_path / "run.gif")
    assert path.read_bytes()[:6] == b"GIF89a" and len(list((tmp_path / "run_frames").glob("*.png"))) == 4
    bundle = ui._repr_mimebundle_()
    assert bundle["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    with pytest.raises(ValueError, match="gif or .mp4"):
        ui.export(tmp_path / "run.avi")


def test_a_learning_rate_outside_the_slider_is_shown_not_clipped(ui):
    ui.load_config(lab_engine.LabConfig(**SMALL, g_lr=0.5))
    assert ui.controls["g_lr"].value == pytest.approx(0.5) and ui.lab.config.g_lr == 0.5
    ui.controls["d_steps"].value = 2  # another change must not clip g_lr
    assert ui.lab.config.g_lr == 0.5



@pytest.mark.parametrize("loss", ["non-saturating", "lsgan"])
def test_static_frame_colour_bar_label_clears_the_small_panels_and_modes_are_integers(loss):
    run = lab_engine.ModeCollapseLab(lab_engine.LabConfig(**SMALL, loss=loss))
    figure = lab_views.render(lab_views.LabFrames().frame(run))
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # places the labels
    renderer = canvas.get_renderer()
    warp, mass, losses_panel, colour_bar = figure.axes[1], figure.axes[2], figure.axes[3], figure.axes[5]
    label_right = colour_bar.yaxis.label.get_window_extent(renderer).x1
    assert colour_bar.get_ylabel() and all(label_right < tick.get_window_extent(renderer).x0
                                           for panel in (warp, losses_panel) for tick in panel.get_yticklabels())
    assert all(float(tick).is_integer() for tick in mass.get_xticks())
