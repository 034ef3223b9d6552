"""`bianmin devices`: the bridge between the hall's server and window LED strips (条屏) and caller keypads (呼叫器)."""
