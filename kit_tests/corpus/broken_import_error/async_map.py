import numpyy_not_installed

def async_map(func, seq):
    yield
