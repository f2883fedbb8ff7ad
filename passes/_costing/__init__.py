"""The IR side of the cost model: which hardware primitives a lowered op is made of."""
