"""The register of fakes started in this process.  Each fake records every
request the real service would refuse (its `errors`, as sentences); the e2e
runner asks here after each test and fails a test during which any fake
recorded one, whether or not the test itself looked.

A test that provokes a violation on purpose asserts it and then clears the
fake's list (`fake.errors.clear()`)."""
_started = []


def register(fake):
    """Called by each fake's start(); returns the fake."""
    if fake not in _started:
        _started.append(fake)
    return fake


def take_violations():
    """[(fake class name, [violation, ...])] of every fake registered since the
    last call with a non-empty list; forgets them all."""
    found = [(type(f).__name__, list(f.errors)) for f in _started if f.errors]
    _started.clear()
    return found
