from tests.tools.conftest import db, embedder, knowledge  # noqa: F401 - shared real-part fixtures
