"""What a visitor can do with the app, each operation once, for the page and the API alike.

Every action takes a request object that :meth:`mmdemo.policy.Policy.admit` built (so its
values passed the policy, its collection is one the visitor may use, and it carries the
visitor) and returns plain results; the tabs turn them into components and the API
endpoints into JSON. Actions call the library (ingest, search, evaluate, manage) and hold
no rule of their own about what a caller may ask.
"""
