"""The page's tabs, one module each: layout and wiring only.

A tab renders its components, names its inputs as its request objects name their fields
(``inputs_kwargs``), admits each event's request through the policy and calls an action
(:mod:`mmdemo.ui.actions`). No tab imports another; :mod:`mmdemo.ui.layout` joins them.
"""
