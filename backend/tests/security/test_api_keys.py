import pytest

from app.errors import Unauthorized
from app.security.api_keys import Forbidden, authorise, parse_api_keys


def test_keys_parse_with_scopes_and_short_keys_are_refused() -> None:
    keys = parse_api_keys(["k" * 20 + ":admin+chat", "z" * 16])
    assert keys[0].scopes == {"admin", "chat"} and keys[1].scopes == frozenset()
    assert "k" * 20 not in repr(keys)  # only a digest is kept
    with pytest.raises(ValueError, match="16"):
        parse_api_keys(["short:admin"])


def test_authorise() -> None:
    keys = parse_api_keys(["a" * 20 + ":admin", "b" * 20 + ":chat"])
    assert authorise(keys, "a" * 20, "admin").scopes == {"admin"}
    with pytest.raises(Forbidden):
        authorise(keys, "b" * 20, "admin")
    with pytest.raises(Unauthorized):
        authorise(keys, "c" * 20, "admin")
    with pytest.raises(Unauthorized):
        authorise(keys, None, "admin")
