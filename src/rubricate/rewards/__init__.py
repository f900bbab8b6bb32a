"""Rewards out: the reward rule, reward rows in DuckDB, exports for verl/TRL/OpenRLHF, online reward functions.

Import the parts you need (`rubricate.rewards.rule`, `.compute`, `.export`, `.online`); this package
file stays empty so that importing the config (which registers the `rewards:` section) stays light.
"""
