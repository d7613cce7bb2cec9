from __future__ import annotations

import pytest

from rolemodel.versions import ProtocolVersion, choose_version, is_supported, parse_version


@pytest.mark.parametrize("text", ["1.0", "1.12", "10.3", "0.1"])
def test_well_formed_versions_parse(text: str) -> None:
    assert str(parse_version(text)) == text


@pytest.mark.parametrize("text", ["", "1", "v1.0", "1.0.0", "01.0", "1.01", "1.-1", " 1.0", "1.0 "])
def test_malformed_versions_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"Major\.Minor"):
        parse_version(text)


def test_support_and_negotiation() -> None:
    assert is_supported("1.0")
    assert not is_supported("2.0")
    assert not is_supported("garbage")
    assert choose_version(["2.0", "1.0"]) == "1.0"
    assert choose_version(["2.0"]) is None
    assert ProtocolVersion(1, 10) > ProtocolVersion(1, 9)
