"""Diagnosis: a verdict, its evidence and a fix for every IKE SA and child SA.

``records`` holds the frozen records the model carries (it imports nothing of ikeview, so the
model can import it); the rules that fill them read the frozen model and live beside it. This
``__init__`` imports nothing, so importing the records never pulls the rules (and the model) in.
"""
