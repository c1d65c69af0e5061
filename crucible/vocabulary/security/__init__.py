"""Security compliance against the running stack, driven by each service's OpenAPI contract.

* :mod:`access`: who may do what, every operation x every role and broken token;
* :mod:`hostile`: hostile input to every string field is harmless;
* :mod:`ownership`: another subject learns nothing about what is not theirs;
* :mod:`audit`: card numbers and tokens stay where they belong; every published port is on loopback.
"""
