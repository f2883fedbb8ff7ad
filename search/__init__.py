"""Architecture search with compiled-cost feedback (DESIGN.md, "Search").

Candidates come from the search space (`frontend.space`), their accuracy from the supernet
(`frontend.supernet`) and their cost from compiling them (`compiler.driver.compile`); the
study keeps the Pareto front of accuracy against mapped cost. This package holds the parts
that are independent of torch: multi-objective ranking (`search.pareto`).
"""

from search.pareto import crowding_distance, dominates, nondominated_sort, pareto_front

__all__ = ["crowding_distance", "dominates", "nondominated_sort", "pareto_front"]
