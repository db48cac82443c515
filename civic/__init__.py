"""Nagar Sahayak domain core: plain Python, no Rasa imports.

Tickets, routing and SLA, city configuration, COVID figures, and the language helpers that
the NLU components, the actions, the officer tools and the tests all share.
"""
