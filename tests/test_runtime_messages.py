"""The Message base class: by-alias, populate-by-name, optional None omitted."""

from __future__ import annotations

from typing import Literal

from chanspec.runtime import Message
from pydantic import Field


class Inner(Message):
    class_: str | None = Field(default=None, alias="class")
    note: str | None = None


class Frame(Message):
    action: Literal["frame"] = "frame"
    payload: Inner | None = None
    count: int | None = None
    required_nullable: str | None


def test_optional_none_fields_are_omitted_with_or_without_by_alias() -> None:
    frame = Frame(required_nullable=None, payload=Inner(class_="x"))
    expected = '{"action":"frame","payload":{"class":"x"},"required_nullable":null}'
    assert frame.model_dump_json() == expected
    assert frame.model_dump_json(by_alias=True) == expected
    assert frame.model_dump(by_alias=False) == {
        "action": "frame",
        "payload": {"class_": "x"},
        "required_nullable": None,
    }


def test_populate_by_name_and_by_alias() -> None:
    assert Inner(**{"class": "a"}).class_ == "a"
    assert Inner(class_="b").class_ == "b"
    assert Inner.model_validate({"class": "c"}).model_dump() == {"class": "c"}
