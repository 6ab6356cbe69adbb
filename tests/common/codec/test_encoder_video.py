"""The encoder's video path: a region that plays like a video goes through H.264 (at
35 dB PSNR or better) while everything around it stays exact, and goes back to
lossless when it stops."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from benchmarks.synthetic_screens import (
    LINE_HEIGHT,
    bgr,
    photo,
    terminal_page,
    text_page,
    video_frames,
)
from common.codec import ScreenDecoder, ScreenEncoder, h264, read_update_header, video_regions
from common.codec import encoder as encoder_module
from common.codec.zstd_stream import StreamMode
from tests.common.codec.round_trips import Frame, psnr, send, send_video, video_in_a_window


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


def test_a_video_playing_gets_a_fast_stream_without_long_distance_matching() -> None:
    """Updates that are mostly H.264 give long-distance matching nothing to find, and
    zstd's level 1 saves as much on them as level 3. Once the video stops, small updates
    bring the plain stream back, then long-distance matching."""
    encoder, decoder = ScreenEncoder(), ScreenDecoder()
    off, on = encoder_module.LONG_MATCHES_OFF_AFTER, encoder_module.LONG_MATCHES_ON_AFTER
    frames = video_in_a_window(video_regions.MOTION_UPDATES + 2 * off)
    modes: list[StreamMode] = []
    new_streams: list[bool] = []

    def encode_one(frame: Frame) -> None:
        updates = encoder.encode(frame)
        for update in updates:
            decoder.decode(update)
        new_streams.extend(read_update_header(u).new_stream for u in updates)
        modes.extend([encoder._stream.mode] * len(updates))

    for frame in frames:
        encode_one(frame)
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
        encode_one(still)
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
