"""Extension components: ``ext=`` on messages and ``make_extension_msg``.

Rules:
- names match ``[A-Za-z_][A-Za-z0-9_-]*`` and are stored as ``ext.<name>``; a name that
  already starts with ``ext.`` is kept as is; ``None`` values are skipped (legacy);
- values are bool, int, float or str scalars, or 1-D arrays of them; scalars become
  length-1 arrays; there is no process-wide type registry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from rerun_core._arrays import arrays_equal, describe, freeze, to_numpy
from rerun_core.errors import InvalidArgumentError, UnsupportedDtypeError

__all__ = ["NO_COMPONENTS", "Components", "components_equal", "normalize_components"]

Components = Mapping[str, np.ndarray[Any, Any]]

NO_COMPONENTS: Components = MappingProxyType({})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_PREFIX = "ext."
_VALUE_KINDS = {"b": "bool", "i": "int", "u": "uint", "f": "float", "U": "str"}


def normalize_components(ext: object, *, single_instance: bool) -> Components:
    """Validate ``ext`` and return a read-only mapping of ``ext.<name>`` to 1-D arrays.

    ``single_instance`` (images, depth, segmentation) allows only one value per name.
    """
    if ext is None or (type(ext) is dict and not ext):
        return NO_COMPONENTS
    if not isinstance(ext, Mapping):
        msg = (
            f"ext must be a dict of name -> value; got {type(ext).__name__}. "
            'Pass e.g. ext={"confidence": 0.9}.'
        )
        raise InvalidArgumentError(msg, param="ext")
    result: dict[str, np.ndarray[Any, Any]] = {}
    for name, value in ext.items():
        if value is None:
            continue
        key = _component_name(name)
        if key in result:
            msg = f"ext names {key!r} twice (with and without the 'ext.' prefix); keep one."
            raise InvalidArgumentError(msg, param="ext")
        array = _component_value(key, value)
        if single_instance and array.shape[0] != 1:
            msg = (
                f"ext[{name!r}] must be a single value on an image, depth or segmentation "
                f"message (one instance); got {array.shape[0]} values. Log per-instance "
                "values with log_extension_components instead."
            )
            raise InvalidArgumentError(msg, param="ext")
        result[key] = array
    return MappingProxyType(result) if result else NO_COMPONENTS


def components_equal(a: Components, b: Components) -> bool:
    """Compare two component mappings by names, dtypes, shapes and values."""
    return a.keys() == b.keys() and all(arrays_equal(a[k], b[k]) for k in a)


def _component_name(name: object) -> str:
    if not isinstance(name, str):
        msg = f"ext names must be str; got {type(name).__name__} {name!r}."
        raise InvalidArgumentError(msg, param="ext")
    bare = name.removeprefix(_PREFIX)
    if not _NAME.fullmatch(bare):
        msg = (
            f"ext name {name!r} is not allowed: names must match [A-Za-z_][A-Za-z0-9_-]* "
            "(optionally prefixed with 'ext.'). Use e.g. 'my_component' or 'my-component'."
        )
        raise InvalidArgumentError(msg, param="ext")
    return _PREFIX + bare


def _component_value(key: str, value: object) -> np.ndarray[Any, Any]:
    array = to_numpy(value, param=f"ext[{key!r}]")
    if array.dtype.kind not in _VALUE_KINDS:
        msg = (
            f"ext[{key!r}] must hold bool, int, float or str values; got {describe(array)}. "
            "Convert it to one of those types."
        )
        raise UnsupportedDtypeError(msg, param="ext")
    if array.dtype.kind == "U" and any("\x00" in str(v) for v in _strings(value)):
        msg = f"ext[{key!r}] strings must not contain NUL characters (numpy would drop them)."
        raise InvalidArgumentError(msg, param="ext")
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1 or array.shape[0] == 0:
        msg = (
            f"ext[{key!r}] must be a scalar or a non-empty 1-D array; got {describe(array)}. "
            "Flatten it or log it as an image."
        )
        raise InvalidArgumentError(msg, param="ext")
    return freeze(array)


def _strings(value: object) -> list[object]:
    """Return the given string values as given (numpy fixed-width storage strips trailing NULs)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return list(value)
    return []
