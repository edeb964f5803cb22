import pytest


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """An empty DNN_DATA_DIR and an empty user cache, both under tmp_path."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("DNN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return data_dir
