"""Each legacy option has three spellings that must agree parameter for parameter.

``rr.log_image(..., recording=)`` (the facade), ``rec.log_image(...)`` (the
``RecordingStream`` method) and ``rc.make_image_msg(...)`` (the core builder) keep explicit
signatures, so users read them in their IDE; these tests keep them from drifting apart.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

import rerun_core as rc
import rerun_sinks as rr

FACADE_METHODS = sorted(
    name
    for name in rr.__all__
    if inspect.isfunction(getattr(rr, name)) and callable(getattr(rr.RecordingStream, name, None))
)


def params(func: Callable[..., Any], *, drop: set[str]) -> list[tuple[str, Any, Any, Any]]:
    """Name, kind, default and annotation of every parameter not in ``drop``."""
    return [
        (p.name, p.kind, p.default, p.annotation)
        for p in inspect.signature(func).parameters.values()
        if p.name not in drop
    ]


def test_the_facade_and_the_recording_share_their_verbs() -> None:
    assert {"log_image", "log_image_file", "set_time_sequence", "save"} <= set(FACADE_METHODS)


@pytest.mark.parametrize("name", FACADE_METHODS)
def test_facade_function_matches_recording_method(name: str) -> None:
    """``rr.f(..., recording=None)`` takes exactly what ``rec.f(...)`` takes, plus ``recording``."""
    facade, method = getattr(rr, name), getattr(rr.RecordingStream, name)
    recording = inspect.signature(facade).parameters["recording"]

    assert recording.default is None
    assert params(facade, drop={"recording"}) == params(method, drop={"self"})
    assert inspect.signature(facade).return_annotation == (
        inspect.signature(method).return_annotation
    )


# log method -> (builder, {method parameter: builder parameter} where the names differ,
# method parameters that are not builder options, builder options the method does not offer)
BUILDERS: dict[str, tuple[Callable[..., Any], dict[str, str], set[str], set[str]]] = {
    "log_image": (rc.make_image_msg, {}, set(), {"max_pixels", "borrow"}),  # the sink decides
    "log_image_file": (
        rc.make_encoded_image_msg,
        {"img_format": "media_type"},
        {"img_bytes", "img_path"},  # both become the builder's ``data``
        {"data", "draw_order", "ext", "max_pixels"},  # legacy log_image_file has none of them
    ),
    "log_depth_image": (rc.make_depth_msg, {}, set(), {"max_pixels", "borrow"}),
    "log_segmentation_image": (rc.make_segmentation_msg, {}, set(), {"max_pixels", "borrow"}),
    "log_annotation_context": (rc.make_annotation_context_msg, {}, set(), set()),
    "log_extension_components": (rc.make_extension_msg, {}, set(), set()),
}


def test_every_log_method_is_paired_with_its_builder() -> None:
    log_methods = {name for name in FACADE_METHODS if name.startswith("log_")}
    assert log_methods == set(BUILDERS)


@pytest.mark.parametrize("name", BUILDERS)
def test_recording_method_options_match_the_builder(name: str) -> None:
    """Each keyword option the method passes on has the builder's name, default and type."""
    builder, renamed, method_only, builder_only = BUILDERS[name]
    method = getattr(rr.RecordingStream, name)
    drop = {"self", "entity_path", "timeless", *method_only}
    ours = {renamed.get(n, n): rest for n, *rest in params(method, drop=drop)}
    theirs = {n: rest for n, *rest in params(builder, drop=builder_only)}

    assert sorted(ours) == sorted(theirs)
    for option, spelling in ours.items():
        if spelling[0] is inspect.Parameter.KEYWORD_ONLY:  # the data argument may be wider
            assert spelling == theirs[option], option
