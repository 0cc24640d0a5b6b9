"""`make bench`: the performance suite (figures as ratios measured in one run)."""
