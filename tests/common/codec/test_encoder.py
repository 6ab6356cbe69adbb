"""Round trips through ScreenEncoder and ScreenDecoder: every frame comes out pixel-exact
where the lossless path was used, and at 35 dB PSNR or better where H.264 was."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.synthetic_screens import (
    LINE_HEIGHT,
    bgr,
    noise,
    text_page,
    with_random_alpha,
)
from common.codec import ScreenDecoder, ScreenEncoder, read_update_header
from common.codec import encoder as encoder_module
from tests.common.codec.round_trips import Frame, send, send_video


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
