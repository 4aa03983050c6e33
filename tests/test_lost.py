"""Watching for a lost object (wildmatte/applications/lost.py): a matte that shrinks to a scrap
or goes empty while the object is in view is lost; one that leaves through the edge it moves
towards is not."""

import numpy as np

from wildmatte.applications.lost import LOST_RUN, LostWatch, centroid_shift, going_out


def _scene(x: int, w: int = 40, size: tuple[int, int] = (96, 128)) -> np.ndarray:
    """A textured block at column x (w wide) over a plain-gradient background."""
    rng = np.random.default_rng(0)
    frame = np.tile(np.linspace(0.2, 0.6, size[1], dtype=np.float32), (size[0], 1))
    frame = np.repeat(frame[..., None], 3, axis=2)
    texture = rng.random((40, w, 3), dtype=np.float32)
    lo, hi = max(0, x), min(size[1], x + w)
    if hi > lo:
        frame[30:70, lo:hi] = texture[:, lo - x : hi - x]
    return frame


def _alpha(x: int, w: int = 40, rows: slice = slice(30, 70), size=(96, 128)) -> np.ndarray:
    a = np.zeros(size, np.float32)
    a[rows, max(0, x) : max(0, min(size[1], x + w))] = 1
    return a


def test_a_matte_that_shrinks_in_view_is_lost_and_gone_after_five_frames():
    watch, frames = LostWatch(), [_scene(40) for _ in range(10)]
    watch.start(_alpha(40))
    # The matte wears down from the bottom while the block stands still in the middle.
    rows = [slice(30, 70), slice(30, 60), slice(30, 45), slice(30, 36)] + [slice(30, 31)] * 6
    lost = []
    for i in range(1, 10):
        prev, now = _alpha(40, rows=rows[i - 1]), _alpha(40, rows=rows[i])
        lost.append(watch.lost(i, frames[i - 1], frames[i], prev, now, collapsed=False))
        if watch.gone:
            break
    assert lost == [False, False, True, True, True, True, True]  # 12/40 of the area from frame 3
    assert len(watch.run) == LOST_RUN and watch.run[0] == 3


def test_an_object_leaving_through_the_edge_it_moves_to_is_not_lost():
    watch = LostWatch()
    xs = list(range(60, 140, 8))  # 8 px a frame to the right, out by the end
    watch.start(_alpha(xs[0]))
    for i in range(1, len(xs)):
        prev_frame, frame = _scene(xs[i - 1]), _scene(xs[i])
        assert not watch.lost(i, prev_frame, frame, _alpha(xs[i - 1]), _alpha(xs[i]), False), i
    assert not watch.gone


def test_going_out_needs_the_motion_towards_the_edge_touched():
    at_right = _alpha(88)  # touches the right edge
    # Moving right, into the edge: going out. Moving left, away from it: not.
    assert going_out(_scene(80), _scene(88), at_right)
    assert not going_out(_scene(96), _scene(88), at_right)
    assert not going_out(_scene(40), _scene(48), _alpha(40))  # touches no edge


def test_a_collapse_counts_and_a_recovery_ends_the_run():
    watch, frame = LostWatch(), _scene(40)
    watch.start(_alpha(40))
    assert watch.lost(1, frame, frame, _alpha(40), _alpha(40), collapsed=True)
    assert not watch.lost(2, frame, frame, _alpha(40), _alpha(40), collapsed=False)
    assert watch.run == [] and not watch.gone


def test_an_object_gone_between_two_frames_left_by_the_edge_its_centroid_moved_to():
    """At the frame where the object has left, the flow measures the background; the last two
    alphas' centroids still say where it went."""
    plain = np.full((96, 128, 3), 0.4, np.float32)  # no texture: the flow measures nothing
    at_right, before = _alpha(112), _alpha(100)
    assert centroid_shift(before >= 0.5, at_right >= 0.5)[0] > 0
    assert going_out(plain, plain, at_right, before)
    assert not going_out(plain, plain, at_right, _alpha(118))  # it had moved away from the edge
    assert not going_out(plain, plain, at_right)  # and without the earlier alpha, nothing says

    watch = LostWatch()
    watch.start(_alpha(88))
    for i, x in enumerate((100, 112), start=1):
        assert not watch.lost(i, plain, plain, _alpha(x - 12), _alpha(x), False)
    assert not watch.lost(3, plain, plain, _alpha(112), np.zeros((96, 128), np.float32), False)
    assert not watch.lost(
        4, plain, plain, np.zeros((96, 128), np.float32), np.zeros((96, 128), np.float32), False
    )
