from solutions.runner import runner
