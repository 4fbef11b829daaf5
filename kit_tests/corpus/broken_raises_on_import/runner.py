raise RuntimeError('oops at import')
