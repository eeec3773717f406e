"""Who reads a lot's objects and where bidders acted from: the supervisory scope (scope.py) and the device and
network facts (network.py, models.py). Low in the domain: every area asks here; the readers of every area
(domain/supervision) sit on top, and the lot-bound types of the areas are plugged in at domain/wiring."""
