"""Stopping criteria and solver parameters of the planner (PyVRP style: explicit, with a seed).

:class:`SolverParams` drives the shipment selection (CP-SAT, the LP-guided search); the
vehicle-routing engines of :mod:`routing.vrp` have their own settings,
:class:`routing.vrp.VrpParams` (engine, OR-Tools / PyVRP limits), a different set of knobs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SolverParams:
    """CP-SAT settings: wall-clock limit [s], seed, workers; ``deterministic_time`` [s] if set.

    Tests use ``workers=1`` and a deterministic limit: only then is a solve reproducible
    (google/or-tools#1145, #4195).
    """

    time_limit_s: float = 10.0
    seed: int = 0
    workers: int = 1
    deterministic_time: float | None = None
    relative_gap: float = 0.0
