def async_map(f, s):
    return 'ÿş'
