"""Every input the core rejects: dropped and counted when lenient, the same error when strict."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import assume, given

import rerun_core as rc
import rerun_sinks as rr
from rerun_core import strategies as rcst

FACADE = {
    rc.make_image_msg: rr.log_image,
    rc.make_depth_msg: rr.log_depth_image,
    rc.make_segmentation_msg: rr.log_segmentation_image,
}


def _error_of(builder, args, kwargs) -> type[Exception]:
    with pytest.raises(rc.RerunCoreError) as info:
        builder(*args, **kwargs)
    return type(info.value)


@given(rcst.invalid_inputs())
def test_lenient_drops_and_counts(case):
    builder, args, kwargs = case
    assume("max_pixels" not in kwargs)  # a builder option the facade does not expose
    rec = rr.new_recording("app")
    mem = rec.memory_recording()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FACADE[builder]("x", *args, recording=rec, **kwargs)
    assert mem.records == []
    assert rec.stats.dropped == 1
    assert rec.stats.logged == 0
    assert all(issubclass(w.category, rr.RerunWarning) for w in caught)


@given(rcst.invalid_inputs())
def test_strict_raises_the_builders_error(case):
    builder, args, kwargs = case
    assume("max_pixels" not in kwargs)
    expected = _error_of(builder, args, kwargs)
    rec = rr.new_recording("app", strict=True)
    mem = rec.memory_recording()
    with pytest.raises(expected):
        FACADE[builder]("x", *args, recording=rec, **kwargs)
    assert mem.records == []
    assert rec.stats.dropped == 0


def test_lenient_warns_the_first_time_at_the_call_site():
    rec = rr.new_recording("app")
    with pytest.warns(rr.RerunWarning, match=r"log_depth_image\(\) dropped") as caught:
        rr.log_depth_image("x", [[1.0, 2.0]], meter=-1, recording=rec)
    assert caught[0].filename == __file__


def test_lenient_warning_reaches_warnings_from_code_without_a_module_name():
    """Embedding hosts run user code with exec(code, {...}): no __name__ in its globals."""
    rec = rr.new_recording("app")
    code = compile("rr.log_depth_image('x', [[1.0]], meter=-1, recording=rec)", "user.py", "exec")
    with pytest.warns(rr.RerunWarning, match=r"log_depth_image\(\) dropped") as caught:
        exec(code, {"rr": rr, "rec": rec})
    assert (caught[0].filename, caught[0].lineno) == ("user.py", 1)
    assert rec.stats.dropped == 1


def test_warnings_skip_every_module_of_the_package():
    """A warning raised through any rerun_sinks module points at the caller's line."""
    from pathlib import Path

    from rerun_sinks import _warn

    helper = {"warn_user": _warn.warn_user}
    for module in sorted(Path(_warn.__file__).parent.glob("*.py")):
        exec(compile("def inner():\n    warn_user('m')", str(module), "exec"), helper)
        with pytest.warns(rr.RerunWarning) as caught:
            helper["inner"]()
        assert caught[0].filename == __file__, module.name


@pytest.mark.parametrize("strict", [False, True])
def test_log_extension_components_of_none_is_bad_data(strict):
    rec = rr.new_recording("app", strict=strict)
    mem = rec.memory_recording()
    if strict:
        with pytest.raises(rc.InvalidArgumentError, match="dict of name"):
            rec.log_extension_components("p", None)
    else:
        with pytest.warns(rr.RerunWarning, match="dict of name"):
            rec.log_extension_components("p", None)
        assert rec.stats.dropped == 1
    assert mem.records == []
