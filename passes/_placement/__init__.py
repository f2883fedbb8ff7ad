"""Placement and scheduling machinery for the `place`, `schedule` and `bound` passes.

Plain modules, no pipeline imports: ``problem`` (what the module asks for), ``mesh`` (where
things are), ``placement`` (a placement written onto ops, scored), ``timeline`` (list
scheduling, over the reservation tables of ``modulo``), ``heuristics`` (naive, greedy),
``cpsat`` (the CP-SAT builder and decoder), ``bounds`` (lower bounds) and ``solve`` (which
placer runs, and what it reports). The passes run without the cyclic collector
(``passes._gc_pause``).
"""
