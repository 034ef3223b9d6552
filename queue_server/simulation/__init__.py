"""The hall simulator: a discrete-event simulation driving the real routing and wait-estimation code."""
