"""Collecting traces: sample k responses per problem from a policy model and store them as traces."""
