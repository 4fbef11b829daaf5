import os, time
def runner(gen):
    if os.fork() == 0:
        os.setsid()
        time.sleep(600)
        os._exit(0)
    return None
