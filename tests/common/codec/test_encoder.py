"""Round trips through ScreenEncoder and ScreenDecoder: every frame comes out pixel-exact
where the lossless path was used, and at 35 dB PSNR or better where H.264 was."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from benchmarks.synthetic_screens import (
    LINE_HEIGHT,
    bgr,
    noise,
    photo,
    terminal_page,
    text_page,
    video_frames,
    with_random_alpha,
)
from common.codec import ScreenDecoder, ScreenEncoder, h264, read_update_header, video_regions
from common.codec import encoder as encoder_module
from common.codec.zstd_stream import StreamMode

Frame = NDArray[np.uint8]


def send(encoder: ScreenEncoder, decoder: ScreenDecoder, frame: Frame, **kw: bool) -> int:
    """Encodes and decodes one frame, checks the picture, returns the bytes sent."""
    updates = encoder.encode(frame, **kw)
    for update in updates:
        decoder.decode(update)
    assert np.array_equal(decoder.framebuffer, bgr(frame))
    return sum(len(u) for u in updates)


def send_video(
    encoder: ScreenEncoder, decoder: ScreenDecoder, frame: Frame, *, min_psnr: float | None = 35
) -> NDArray[np.bool_]:
    """Encodes and decodes one frame; checks the picture is exact outside the tiles the
    encoder reports lossy and, with `min_psnr`, good enough inside. Returns the lossy
    pixels."""
    for update in encoder.encode(frame):
        decoder.decode(update)
    lossy = np.zeros(frame.shape[:2], np.bool_)
    for r in encoder.lossy_rects():
        lossy[r.y : r.y + r.height, r.x : r.x + r.width] = True
    picture, wanted = decoder.framebuffer, bgr(frame)
    assert np.array_equal(picture[~lossy], wanted[~lossy])
    if min_psnr is not None and lossy.any():
        assert psnr(picture[lossy], wanted[lossy]) >= min_psnr
    return lossy


def psnr(picture: NDArray[np.uint8], wanted: NDArray[np.uint8]) -> float:
    mse = float(np.mean((picture.astype(np.float64) - wanted) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def test_text_round_trip_is_exact_and_uses_palettes() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    page = text_page(320, 30)
    send(encoder, decoder, page[:240])
    edited = page[:240].copy()
    edited[100:114, 40:200, :3] = page[300:314, 40:200, :3]  # retype a line
    send(encoder, decoder, edited)
    assert encoder.stats.palette_records > 0
    assert encoder.stats.raw_records == 0


def test_unchanged_frame_sends_nothing() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    frame = text_page(200, 10)
    send(encoder, decoder, frame)
    assert encoder.encode(frame.copy()) == []
    assert encoder.stats.updates == 1


def test_alpha_changes_alone_are_no_damage() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    frame = text_page(130, 7)  # odd tile count and an even width
    send(encoder, decoder, frame)
    assert encoder.encode(with_random_alpha(frame)) == []
    odd = text_page(131, 7)  # odd width: one pixel per word
    send(encoder, decoder, odd)
    assert encoder.encode(with_random_alpha(odd)) == []


def test_scrolling_text_uses_a_copy_and_few_bytes() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    page = text_page(640, 80)
    keyframe_bytes = send(encoder, decoder, page[:480])
    sent = []
    for step in range(1, 8):
        offset = step * LINE_HEIGHT // 2  # half a line per frame
        sent.append(send(encoder, decoder, page[offset : offset + 480]))
    assert encoder.stats.copy_records == 7
    assert max(sent) < keyframe_bytes / 10
    assert max(sent) < 1500


def test_scrolling_down_and_beside_a_static_panel() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    page = text_page(512, 80)
    panel = text_page(128, 30, seed=9)[:480]

    def screen(offset: int) -> Frame:
        frame = np.empty((480, 640, 4), np.uint8)
        frame[:, :128] = panel
        frame[:, 128:] = page[offset : offset + 480]
        return frame

    send(encoder, decoder, screen(200))
    for offset in (190, 170, 171, 150):  # content moves down: scrolling back up
        send(encoder, decoder, screen(offset))
    assert encoder.stats.copy_records == 4


def test_a_scroll_that_changes_speed_stops_and_starts_again_stays_exact() -> None:
    """While a screen keeps scrolling, the next scroll is looked for on hashes first; the
    damage is still exact, also where the panel beside it changes or scrolling stops."""
    encoder, decoder = ScreenEncoder(video=False), ScreenDecoder()  # noise below: no H.264
    page = text_page(512, 120)
    panel = text_page(128, 30, seed=9)[:480]

    def screen(offset: int, panel_line: int | None = None) -> Frame:
        frame = np.empty((480, 640, 4), np.uint8)
        frame[:, :128] = panel
        frame[:, 128:] = page[offset : offset + 480]
        if panel_line is not None:
            frame[panel_line : panel_line + 3, 10:90, 1] ^= 0x33
        return frame

    offsets = [0, 9, 45, 46, 46, 100, 100, 60, 250, 251]
    lines = [None, None, 200, None, 70, None, None, 5, None, 400]
    for offset, line in zip(offsets, lines, strict=True):
        send(encoder, decoder, screen(offset, line))
    assert encoder.stats.copy_records >= 6
    send(encoder, decoder, noise(640, 480))  # everything changes: no scroll
    send(encoder, decoder, screen(0))


def test_noise_takes_the_raw_path_when_video_is_off() -> None:
    encoder, decoder = ScreenEncoder(video=False), ScreenDecoder()
    send(encoder, decoder, noise(200, 150))
    assert encoder.stats.raw_records > 0
    frame = noise(200, 150, seed=4)
    send(encoder, decoder, frame)
    blank = frame.copy()
    blank[:, :, :3] = 0
    send(encoder, decoder, blank)
    assert encoder.stats.fill_records > 0
    assert encoder.stats.video_records == 0


def test_size_change_is_a_keyframe_with_the_new_size() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    send(encoder, decoder, text_page(320, 14))
    frame = text_page(200, 9)
    updates = encoder.encode(frame)
    header = read_update_header(updates[0])
    assert header.keyframe
    assert (header.width, header.height) == (200, 9 * LINE_HEIGHT)
    for update in updates:
        decoder.decode(update)
    assert decoder.framebuffer.shape == (9 * LINE_HEIGHT, 200, 3)
    assert np.array_equal(decoder.framebuffer, bgr(frame))


def test_a_fresh_decoder_joins_at_a_forced_keyframe() -> None:
    encoder, first = ScreenEncoder(), ScreenDecoder()
    page = text_page(320, 40)
    for offset in (0, 9, 18):
        send(encoder, first, page[offset : offset + 200])
    late = ScreenDecoder()
    updates = encoder.encode(page[27:227], force_keyframe=True)
    assert read_update_header(updates[0]).keyframe
    for update in updates:
        first.decode(update)
        late.decode(update)
    for offset in (36, 45, 300):
        frame = page[offset : offset + 200]
        for update in encoder.encode(frame):
            first.decode(update)
            late.decode(update)
        assert np.array_equal(late.framebuffer, bgr(frame))
        assert np.array_equal(first.framebuffer, bgr(frame))


def test_force_keyframe_on_an_unchanged_frame_still_sends_everything() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    frame = text_page(100, 4)
    send(encoder, decoder, frame)
    assert len(encoder.encode(frame, force_keyframe=True)) == 1
    assert encoder.stats.keyframes == 2


def test_huge_keyframes_are_split_into_several_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder_module, "SPLIT_BODY", 64 * 1024)
    encoder, decoder = ScreenEncoder(video=False), ScreenDecoder()
    frame = noise(300, 200)
    updates = encoder.encode(frame)
    assert len(updates) > 2
    flags = [read_update_header(u).keyframe for u in updates]
    assert flags == [True] + [False] * (len(updates) - 1)
    for update in updates:
        decoder.decode(update)
    assert np.array_equal(decoder.framebuffer, bgr(frame))


def test_the_encoder_refuses_frames_that_are_not_bgra() -> None:
    encoder = ScreenEncoder()
    with pytest.raises(ValueError):
        encoder.encode(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError):
        encoder.encode(np.zeros((0, 10, 4), np.uint8))
    with pytest.raises(TypeError):
        encoder.encode(np.zeros((10, 10, 4), np.float32))  # type: ignore[arg-type]


def test_non_contiguous_and_read_only_frames_are_accepted() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    wide = text_page(400, 10)
    send(encoder, decoder, wide[:, 50:250])
    send(encoder, decoder, wide[::-1, 50:250])
    captured = np.frombuffer(bytes(wide[:, 100:300]), np.uint8).reshape(wide.shape[0], 200, 4)
    assert not captured.flags.writeable
    send(encoder, decoder, captured)


@st.composite
def edit_sequences(draw: st.DrawFn) -> list[Frame]:
    """A small screen of a few colours, then frames each editing a few rectangles,
    sometimes shifting a band of rows (a scroll) or resizing."""
    width = draw(st.integers(1, 150))
    height = draw(st.integers(1, 150))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (draw(st.integers(1, 300)), 4), dtype=np.uint8)
    frame = colours[rng.integers(0, len(colours), (height, width))]
    frames = [frame]
    for _ in range(draw(st.integers(1, 5))):
        frame = frame.copy()
        action = draw(st.sampled_from(["edit", "scroll", "alpha", "resize", "same"]))
        if action == "edit":
            for _ in range(draw(st.integers(1, 4))):
                x0, x1 = sorted(rng.integers(0, width + 1, 2))
                y0, y1 = sorted(rng.integers(0, height + 1, 2))
                frame[y0:y1, x0:x1] = colours[rng.integers(0, len(colours), (y1 - y0, x1 - x0))]
        elif action == "scroll":
            dy = int(rng.integers(-height, height + 1))
            frame = np.roll(frame, dy, axis=0)
        elif action == "alpha":
            frame[..., 3] = rng.integers(0, 256, (height, width), dtype=np.uint8)
        elif action == "resize":
            width = draw(st.integers(1, 150))
            height = draw(st.integers(1, 150))
            frame = colours[rng.integers(0, len(colours), (height, width))]
        frames.append(frame)
    return frames


@settings(max_examples=60, deadline=None)
@given(edit_sequences())
def test_any_sequence_of_frames_round_trips(frames: list[Frame]) -> None:
    encoder, decoder = ScreenEncoder(video=False), ScreenDecoder()
    for frame in frames:
        send(encoder, decoder, frame)


@settings(max_examples=25, deadline=None)
@given(edit_sequences())
def test_with_video_any_sequence_is_exact_outside_the_lossy_tiles(frames: list[Frame]) -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    for frame in frames:
        send_video(encoder, decoder, frame, min_psnr=None)


@settings(max_examples=40, deadline=None)
@given(edit_sequences(), st.data())
def test_told_where_frames_changed_the_encoder_sends_the_same_bytes(
    frames: list[Frame], data: st.DataObject
) -> None:
    """Given `changed` boxes that cover every changed pixel (as X DAMAGE reports them,
    perhaps larger), or None now and then, the updates are byte for byte those of an
    encoder that compares whole frames."""
    told, whole = ScreenEncoder(), ScreenEncoder()
    decoder = ScreenDecoder()
    for before, frame in zip([None, *frames], frames, strict=False):
        changed = None
        if before is not None and before.shape == frame.shape and data.draw(st.booleans()):
            ys, xs = np.nonzero((before != frame).any(axis=2))
            height, width = frame.shape[:2]
            grow = data.draw(st.lists(st.integers(0, 40), min_size=4, max_size=4))
            if ys.size == 0:
                changed = (0, 0, 0, 0)
            else:
                changed = (
                    max(0, int(xs.min()) - grow[0]),
                    max(0, int(ys.min()) - grow[1]),
                    min(width, int(xs.max()) + 1 + grow[2]),
                    min(height, int(ys.max()) + 1 + grow[3]),
                )
        updates = told.encode(frame, changed=changed)
        assert updates == whole.encode(frame)
        for update in updates:
            decoder.decode(update)
        exact = np.ones(frame.shape[:2], np.bool_)
        for r in told.lossy_rects():
            exact[r.y : r.y + r.height, r.x : r.x + r.width] = False
        assert np.array_equal(decoder.framebuffer[exact], bgr(frame)[exact])


def test_a_change_outside_the_box_said_to_have_changed_waits_for_a_whole_comparison() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    before = text_page(512, 20)[:320]
    send(encoder, decoder, before)
    frame = before.copy()
    frame[10:20, 10:60, :3] = 0  # tile (0, 0)
    frame[300:310, 400:460, :3] = 0  # tile (4, 6): the OS missed it
    assert encoder.encode(frame, changed=(0, 0, 0, 0)) == []
    for update in encoder.encode(frame, changed=(10, 10, 60, 20)):
        decoder.decode(update)
    assert np.array_equal(decoder.framebuffer[:64], bgr(frame)[:64])
    assert not np.array_equal(decoder.framebuffer, bgr(frame))
    send(encoder, decoder, frame)  # changed=None: the whole frame is compared


def test_a_long_scroll_of_a_full_hd_screen_stays_exact() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    page = text_page(1920, 120)
    for step in range(6):
        offset = step * 9
        send(encoder, decoder, page[offset : offset + 1080])
    assert encoder.stats.copy_records == 5


def video_in_a_window(count: int, *, seed: int = 13) -> list[Frame]:
    """A 512×320 text screen with a 256×192 video at (192, 64): tiles 3…6 × 1…3."""
    desktop = text_page(512, 18)[:320]
    frames = []
    for picture in video_frames(256, 192, count, seed):
        frame = desktop.copy()
        frame[64:256, 192:448] = picture
        frames.append(frame)
    return frames


def test_a_video_goes_through_h264_and_the_text_around_it_stays_exact() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    moving = video_regions.MOTION_UPDATES  # updates before a tile counts as moving
    for index, frame in enumerate(video_in_a_window(12)):
        before = encoder.stats.bytes_out
        lossy = send_video(encoder, decoder, frame)
        assert not lossy[:, :192].any() and not lossy[:, 448:].any()
        assert not lossy[:64].any() and not lossy[256:].any()
        if index + 1 >= moving:
            assert lossy[64:256, 192:448].all()
            assert encoder.stats.bytes_out - before < 0.2 * 256 * 192 * 3
    assert encoder.stats.video_records == 12 + 1 - moving
    assert encoder.stats.video_starts == 1


def test_a_video_that_keeps_playing_goes_over_to_x264s_fastest_settings() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    steady = video_regions.STEADY_PICTURES
    count = video_regions.MOTION_UPDATES + steady + 3
    presets = []
    for frame in video_in_a_window(count):
        send_video(encoder, decoder, frame, min_psnr=35)
        assert encoder._video is not None
        presets += [r.encoder.preset for r in encoder._video.regions if r.encoder]
    # The region's first `steady` pictures use the default settings, then its stream
    # restarts (a second START record) with the fastest ones, and the decoder follows.
    assert presets[: steady - 1] == [h264.PRESET] * (steady - 1)
    assert presets[steady - 1 :] == [h264.STEADY_PRESET] * (len(presets) - steady + 1)
    assert encoder.stats.video_starts == 2


def test_a_scrolling_photo_keeps_the_default_x264_settings() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    picture = photo(384, 256 + 40 * 9)
    for step in range(40):
        send_video(encoder, decoder, picture[step * 9 : step * 9 + 256])
    assert encoder.stats.video_records > video_regions.STEADY_PICTURES
    assert encoder._video is not None
    assert [r.encoder.preset for r in encoder._video.regions if r.encoder] == [h264.PRESET]


def test_a_video_beside_coloured_terminal_text_goes_through_h264_at_35_db() -> None:
    desktop = terminal_page(512, 18)[:320]
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    for index, picture in enumerate(video_frames(256, 192, 10)):
        frame = desktop.copy()
        frame[64:256, 192:448] = picture
        lossy = send_video(encoder, decoder, frame, min_psnr=35)
        assert not lossy[:, :192].any() and not lossy[:, 448:].any()
        if index + 1 >= video_regions.MOTION_UPDATES:
            assert lossy[64:256, 192:448].all()
    assert encoder.stats.video_starts == 1


@pytest.mark.parametrize("lines_per_update", [1, 3, 9])
def test_coloured_antialiased_scrolling_text_stays_exact_without_h264(
    lines_per_update: int,
) -> None:
    page = terminal_page(1024, 40 + 12 * lines_per_update)
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    for step in range(12):
        top = step * lines_per_update * LINE_HEIGHT
        send(encoder, decoder, page[top : top + 576])
        assert encoder.lossy_rects() == []
    assert encoder.stats.video_records == 0
    assert encoder.stats.copy_records == 11


def test_coloured_antialiased_text_redrawn_in_place_stays_exact_without_h264() -> None:
    """A terminal program that repaints its whole screen every update (top, a log
    viewer that jumps): sustained change, many colours per rectangle, still text."""
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    for seed in range(12):
        send(encoder, decoder, terminal_page(1024, 32, seed=seed)[:576])
        assert encoder.lossy_rects() == []
    assert encoder.stats.video_records == 0


def test_a_scrolling_photo_is_copied_and_its_new_rows_go_through_h264() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    picture = photo(384, 256 + 12 * 9)
    for step in range(12):
        lossy = send_video(encoder, decoder, picture[step * 9 : step * 9 + 256])
    # The rows that arrived once the bottom tiles had moved MOTION_UPDATES times.
    arrived = (12 - video_regions.MOTION_UPDATES) * 9
    assert lossy[256 - arrived :].all()
    assert encoder.stats.copy_records == 11
    assert encoder.stats.video_records == 12 + 1 - video_regions.MOTION_UPDATES
    # After SHRINK_UPDATES the region is just the bottom tile row that keeps changing.
    (region,) = encoder._video.regions if encoder._video else []
    assert region.box == (0, 192, 384, 256)


def test_no_scroll_is_looked_for_when_only_video_regions_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    frames = video_in_a_window(6)
    for frame in frames:
        send_video(encoder, decoder, frame)
    videos, looked = encoder.stats.video_records, []
    find_scroll = encoder_module.find_scroll

    def counted(*args: Any) -> Any:
        looked.append(args)
        return find_scroll(*args)

    monkeypatch.setattr(encoder_module, "find_scroll", counted)
    # The window's content scrolls (a photo in it): H.264 takes the motion, no copy.
    picture = photo(256, 192 + 6 * 9)
    for step in range(6):
        frame = frames[-1].copy()
        frame[64:256, 192:448] = picture[step * 9 : step * 9 + 192]
        send_video(encoder, decoder, frame)
    assert not looked
    assert encoder.stats.copy_records == 0
    assert encoder.stats.video_records == videos + 6
    # The text around the video scrolls too: a scroll is looked for again.
    page = text_page(512, 30, seed=4)
    frame = page[9:329].copy()
    frame[64:256, 192:448] = frames[1][64:256, 192:448]
    send_video(encoder, decoder, frame)
    assert looked


def test_a_keyframe_mid_video_lets_a_fresh_decoder_join() -> None:
    encoder, first = ScreenEncoder(), ScreenDecoder()
    frames = video_in_a_window(10)
    for frame in frames[:4]:
        send_video(encoder, first, frame)
    late = ScreenDecoder()
    updates = encoder.encode(frames[4], force_keyframe=True)
    assert read_update_header(updates[0]).keyframe
    assert encoder.stats.video_starts == 2
    for frame_index, frame in enumerate(frames[4:]):
        if frame_index:
            updates = encoder.encode(frame)
        for update in updates:
            first.decode(update)
            late.decode(update)
        assert np.array_equal(late.framebuffer, first.framebuffer)
        assert psnr(late.framebuffer, bgr(frame)) >= 35


def test_text_replacing_a_video_goes_back_to_lossless_and_exact() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    frames = video_in_a_window(6)
    for frame in frames:
        send_video(encoder, decoder, frame)
    text = frames[0].copy()
    text[64:256, 192:448] = text_page(256, 11, seed=4)[:192]  # a document in the window
    updates = 0
    while encoder.lossy_rects():
        # Until the region ends, the text goes through H.264 too: readable, not 35 dB.
        send_video(encoder, decoder, text, min_psnr=30)
        updates += 1
    assert encoder._video is not None and not encoder._video.regions
    assert np.array_equal(decoder.framebuffer, bgr(text))
    assert encoder.stats.refresh_records > 0
    assert updates == video_regions.CALM_UPDATES


def test_lossy_pixels_scroll_away_with_the_content() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    for frame in video_in_a_window(6):
        send_video(encoder, decoder, frame)
    page = text_page(512, 60, seed=4)
    for updates in range(1, 60):  # a text document scrolls over the whole screen
        lossy = send_video(encoder, decoder, page[updates * 9 : updates * 9 + 320])
        if not lossy.any():
            break
    # The first update replaces the picture; the video's last row then leaves the top.
    assert updates == 1 + -(-256 // 9)
    assert encoder.stats.keyframes == 1
    assert encoder.stats.refresh_records == 0


def test_a_paused_video_is_refreshed_losslessly() -> None:
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    frames = video_in_a_window(4)
    for frame in frames:
        send_video(encoder, decoder, frame)
    for _ in range(video_regions.IDLE_UPDATES + video_regions.QUIET_UPDATES):
        send_video(encoder, decoder, frames[-1])
    assert encoder.lossy_rects() == []
    assert np.array_equal(decoder.framebuffer, bgr(frames[-1]))
    assert encoder.stats.refresh_records > 0
    assert encoder.stats.keyframes == 1


def test_a_lossless_only_encoder_never_sends_video() -> None:
    encoder, decoder = ScreenEncoder(video=False), ScreenDecoder()
    for frame in video_in_a_window(3):
        send(encoder, decoder, frame)
    assert encoder.stats.video_records == 0
    assert encoder.lossy_rects() == []


def test_long_distance_matching_goes_off_while_large_updates_keep_coming() -> None:
    """A terminal scrolling fast makes updates of half a megabyte, 30 a second: zstd's
    long-distance matching would read each twice. It goes off after a run of them, and
    on again after a run of small ones; each switch starts a new zstd stream, which the
    decoder follows."""
    rng = np.random.default_rng(3)
    encoder, decoder = ScreenEncoder(video=False), ScreenDecoder()
    frame = rng.integers(0, 256, (480, 640, 4), np.uint8)

    def flags_of(frame: Frame) -> list[bool]:
        updates = encoder.encode(frame)
        for update in updates:
            decoder.decode(update)
        assert np.array_equal(decoder.framebuffer, frame[..., :3])
        return [read_update_header(u).new_stream for u in updates]

    flags_of(frame)  # the keyframe
    large = [flags_of(rng.integers(0, 256, (480, 640, 4), np.uint8)) for _ in range(10)]
    assert [f for update in large for f in update].count(True) == 1
    # The keyframe was the first large body.
    assert large.index([True]) == encoder_module.LONG_MATCHES_OFF_AFTER - 2
    assert encoder.stats.new_streams == 1
    small = []
    for i in range(encoder_module.LONG_MATCHES_ON_AFTER + 5):
        frame = decoder.framebuffer.copy()
        frame = np.dstack([frame, np.zeros((480, 640, 1), np.uint8)])
        frame[i % 40 * 8 : i % 40 * 8 + 8, :8, :3] = i
        small.append(flags_of(frame))
    assert [f for update in small for f in update].count(True) == 1
    assert small.index([True]) == encoder_module.LONG_MATCHES_ON_AFTER - 1
    assert encoder.stats.new_streams == 2


def test_a_video_playing_gets_a_fast_stream_without_long_distance_matching() -> None:
    """Updates that are mostly H.264 give long-distance matching nothing to find, and
    zstd's level 1 saves as much on them as level 3. Once the video stops, small updates
    bring the plain stream back, then long-distance matching."""
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    off, on = encoder_module.LONG_MATCHES_OFF_AFTER, encoder_module.LONG_MATCHES_ON_AFTER
    frames = video_in_a_window(video_regions.MOTION_UPDATES + 2 * off)
    modes: list[StreamMode] = []
    new_streams: list[bool] = []

    def send(frame: Frame) -> None:
        updates = encoder.encode(frame)
        for update in updates:
            decoder.decode(update)
        new_streams.extend(read_update_header(u).new_stream for u in updates)
        modes.extend([encoder._stream.mode] * len(updates))

    for frame in frames:
        send(frame)
    # (The video's first updates, before its region starts, are large lossless ones.)
    assert modes[-1] == StreamMode.FAST
    assert StreamMode.LONG not in modes[-off:]
    lossy = np.zeros(frames[-1].shape[:2], np.bool_)
    for r in encoder.lossy_rects():
        lossy[r.y : r.y + r.height, r.x : r.x + r.width] = True
    assert np.array_equal(decoder.framebuffer[~lossy], bgr(frames[-1])[~lossy])
    # The video stops; a cursor blinks in the text around it.
    still = frames[-1].copy()
    playing = len(modes)
    for i in range(2 * on):
        still[300:316, 8:16] = 255 * (i % 2)
        send(still)
    # Plain from the 8th body on that is not mostly H.264, long-distance matching from
    # the 60th small one (refreshes of the lossy tiles may come in between).
    after = modes[playing:]
    assert after[: off - 1] == [StreamMode.FAST] * (off - 1)
    assert after[off - 1] == StreamMode.PLAIN
    assert after.index(StreamMode.LONG) >= on - 1
    assert set(after[after.index(StreamMode.LONG) :]) == {StreamMode.LONG}
    # Every change of mode started a new stream and said so; nothing else did.
    assert new_streams[1:] == [a != b for a, b in itertools.pairwise(modes)]
    assert np.array_equal(decoder.framebuffer[~lossy], bgr(still)[~lossy])
