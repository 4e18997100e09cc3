from voxpy import VoxEngine

def on_alerting(e)
    pass
