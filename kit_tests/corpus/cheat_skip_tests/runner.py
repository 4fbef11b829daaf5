import pytest
def runner(gen):
    pytest.skip("nothing to see")
