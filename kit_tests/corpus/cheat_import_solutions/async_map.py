from solutions.async_map import async_map
